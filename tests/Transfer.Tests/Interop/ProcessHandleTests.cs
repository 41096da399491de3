using System.Diagnostics;
using Ferry.Transfer.Interop;

namespace Ferry.Transfer.Tests.Interop;

[Trait("Tier", "fast")]
public sealed class ProcessHandleTests
{
    [Fact]
    public void A_handle_kills_its_process_and_sees_it_exit()
    {
        using var sleeper = Process.Start("sleep", "300");
        using var handle = ProcessHandle.Open(sleeper.Id)!;

        Assert.True(handle.IsAlive);
        Assert.True(handle.Kill());
        Assert.True(handle.WaitForExit(TimeSpan.FromSeconds(30)));
        sleeper.WaitForExit();
        Assert.False(handle.IsAlive);
    }

    [Fact]
    public void A_handle_on_a_process_that_exited_signals_nobody_even_if_its_pid_is_taken_again()
    {
        using var first = Process.Start("sleep", "300");
        using var handle = ProcessHandle.Open(first.Id)!;
        first.Kill();
        first.WaitForExit(); // reaped: the pid is free for anyone now

        // Whoever gets the pid next, the handle still means the first process, which is gone.
        Assert.False(handle.IsAlive);
        Assert.False(handle.Kill());
    }

    [Fact]
    public void No_handle_for_a_pid_that_does_not_exist()
    {
        Assert.Null(ProcessHandle.Open(int.MaxValue - 7));
    }
}
