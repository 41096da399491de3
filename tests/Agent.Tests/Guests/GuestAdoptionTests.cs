using Ferry.Agent.Guests;
using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Ferry.Transfer.Interop;
using Grpc.Core;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.Guests;

/// <summary>
/// A real agent stopped as a restart stops it, its page-counter guest left running in a real QEMU, and a
/// second life of the agent on the same run directory: the guest is adopted, reported, never started
/// twice, and managed as if launched here (migrated away, its QEMU stopped and its RAM freed).
/// </summary>
public sealed class GuestAdoptionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_restarted_agent_adopts_the_guest_its_predecessor_left_running_reports_it_refuses_a_second_copy_and_migrates_it()
    {
        using var run = new TestDirectory();
        await using var api = await FakeControlPlane.StartAsync();
        var guest = PageCounter("survivor", 64);
        int pid;
        string ram;
        await using (var first = await AgentTestHost.StartAsync("host-a", api.Url, run.Path))
        {
            await first.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
            await QemuHost.WaitUntilCountingAsync(first.Qemu("survivor"));
            pid = first.Qemu("survivor").Pid;
            ram = first.Qemu("survivor").Layout.RamFile;
            await first.StopLeavingGuestsAsync();
        }

        using (var handle = ProcessHandle.Open(pid))
        {
            Assert.True(handle is { IsAlive: true }, "the agent's shutdown killed its guest");
        }

        await using var second = await AgentTestHost.StartAsync("host-a", api.Url, run.Path);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);

        var adopted = second.Qemu("survivor");
        Assert.True(adopted.Adopted);
        Assert.Equal(pid, adopted.Pid);
        Assert.Equal(ram, adopted.Layout.RamFile);
        Assert.Equal("running", (await second.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "survivor" }, Call())).RunState);
        await ControlPlaneCalls.WaitUntilAsync(
            () => api.Calls.Heartbeats.Any(h => h.HostName == "host-a" && h.Guests.Any(g => g.Name == "survivor" && g.RunState == "running")),
            Patience,
            "a heartbeat of the second life listing the adopted guest as running");

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await second.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call()));
        Assert.Equal(StatusCode.AlreadyExists, refused.StatusCode);
        Assert.Contains("adopted", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal([pid], OrphanReaper.Find(Path.Combine(run.Path, "q")).Where(q => q.Instance == "survivor").Select(q => q.Pid));

        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, Transport = Transport.Qemu };
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call());
        var end = (await MigrateToEndAsync(second.Client, Migrate(id, "survivor", target, b, policy)))[^1];
        Report("adopted guest migrated", end);

        Assert.True(end.Phase == MigrationPhase.Completed, $"{end.Phase}: {end.FailureReason}");
        Assert.True(end.GuestOnTarget);
        await adopted.Exited.WaitAsync(Patience, TestContext.Current.CancellationToken);
        Assert.Equal(Ferry.Agent.Qemu.QemuProcess.UnknownExitCode, await adopted.Exited);
        Assert.False(File.Exists(ram), "the adopted source's RAM file outlived its cleanup");
        Assert.False((await second.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "survivor" }, Call())).Exists);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(b.Qemu("survivor"));
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task Stopping_an_adopted_guest_stops_its_qemu_and_frees_its_ram()
    {
        using var run = new TestDirectory();
        await using var api = await FakeControlPlane.StartAsync();
        int pid;
        string ram;
        await using (var first = await AgentTestHost.StartAsync("host-s", api.Url, run.Path))
        {
            await first.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = Idle("left") }, Call());
            pid = first.Qemu("left").Pid;
            ram = first.Qemu("left").Layout.RamFile;
            await first.StopLeavingGuestsAsync();
        }

        await using var second = await AgentTestHost.StartAsync("host-s", api.Url, run.Path);
        Assert.Equal(pid, second.Qemu("left").Pid);
        using var handle = ProcessHandle.Open(pid);
        Assert.NotNull(handle);

        var stopped = await second.Client.StopGuestAsync(new StopGuestRequest { Name = "left" }, Call());

        Assert.False(stopped.Exists);
        Assert.True(handle.WaitForExit(TimeSpan.Zero), "the adopted QEMU still runs after its guest was stopped");
        Assert.False(File.Exists(ram));
        Assert.Empty(OrphanReaper.Find(Path.Combine(run.Path, "q")));
    }
}
