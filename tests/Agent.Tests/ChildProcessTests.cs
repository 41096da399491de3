using Ferry.Agent.Tests.Support;

namespace Ferry.Agent.Tests;

/// <summary>The one way the agent starts processes, with real programs (sh, sleep): no shell in between, stdin closed, limits and failures as values.</summary>
public sealed class ChildProcessTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_argument_reaches_the_program_as_it_is_and_stdin_reads_as_closed()
    {
        // `cat` ends at once only if stdin is closed; a program waiting on an open stdin would run into the limit.
        var run = await ChildProcess.RunAsync(
            new ChildProcessStart("sh", ["-c", "printf '%s|' \"$@\"; cat", "sh", "a b", "c;d", "$(id)", "e\"f"]),
            Generous,
            TimeProvider.System,
            Cancel);

        Assert.Null(run.Failure);
        Assert.True(run.Succeeded);
        Assert.Equal("a b|c;d|$(id)|e\"f|", run.Output);
    }

    [Fact]
    public async Task Variables_are_set_on_top_of_the_agents_environment_and_a_null_removes_one()
    {
        var path = Environment.GetEnvironmentVariable("PATH");
        Assert.False(string.IsNullOrEmpty(path), "the test needs PATH in its own environment");
        var run = await ChildProcess.RunAsync(
            new ChildProcessStart("sh", ["-c", "printf '%s/%s/%s' \"$FERRY_TEST_VALUE\" \"${PATH:+path}\" \"${HOME-unset}\""])
            {
                Environment = new Dictionary<string, string?> { ["FERRY_TEST_VALUE"] = "a b", ["HOME"] = null },
            },
            Generous,
            TimeProvider.System,
            Cancel);

        Assert.True(run.Succeeded, run.Error);
        Assert.Equal("a b/path/unset", run.Output);
    }

    [Fact]
    public async Task A_non_zero_exit_comes_back_with_what_the_program_printed()
    {
        var run = await ChildProcess.RunAsync(new ChildProcessStart("sh", ["-c", "echo out; echo err >&2; exit 3"]), Generous, TimeProvider.System, Cancel);

        Assert.Null(run.Failure);
        Assert.False(run.Succeeded);
        Assert.Equal(3, run.ExitCode);
        Assert.Equal("out\n", run.Output);
        Assert.Equal("err\n", run.Error);
    }

    [Fact]
    public async Task A_tool_that_outlives_its_limit_is_killed_and_its_failure_is_a_value()
    {
        using var directory = new TestDirectory();
        var pidFile = directory.File("pid");

        // exec: the pid written is the sleeping program's own, the one the limit must kill.
        var run = await ChildProcess.RunAsync(
            new ChildProcessStart("sh", ["-c", "echo $$ > \"$1\"; echo waiting >&2; exec sleep 600", "sh", pidFile]),
            TimeSpan.FromSeconds(1),
            TimeProvider.System,
            Cancel);

        Assert.True(run.TimedOut);
        Assert.False(run.Succeeded);
        Assert.Contains("did not finish within", run.Failure, StringComparison.Ordinal);
        Assert.Contains("waiting", run.Failure, StringComparison.Ordinal);
        var pid = int.Parse(await File.ReadAllTextAsync(pidFile, Cancel), System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"pid {pid} still runs after its limit");
    }

    [Fact]
    public async Task A_program_that_is_not_there_is_a_failure_value_not_an_exception()
    {
        Assert.False(ChildProcess.TryStart(new ChildProcessStart("/nonexistent/ferry-tool", []), out var child, out var failure));
        Assert.Null(child);
        Assert.Contains("Cannot run /nonexistent/ferry-tool", failure, StringComparison.Ordinal);

        var run = await ChildProcess.RunAsync(new ChildProcessStart("/nonexistent/ferry-tool", ["--version"]), Generous, TimeProvider.System, Cancel);
        Assert.Equal(-1, run.ExitCode);
        Assert.False(run.TimedOut);
        Assert.Contains("Cannot run /nonexistent/ferry-tool", run.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_daemons_stdout_and_stderr_are_appended_to_its_output_file()
    {
        using var directory = new TestDirectory();
        var output = directory.File("daemon.out");
        await File.WriteAllTextAsync(output, "before\n", Cancel);

        Assert.True(ChildProcess.TryStart(
            new ChildProcessStart("sh", ["-c", "echo to-stdout; echo to-stderr >&2; pwd"]) { OutputFile = output, WorkingDirectory = directory.Path },
            out var child,
            out var failure), failure);
        using (child)
        {
            Assert.Equal(0, await child.Exited.WaitAsync(Generous, Cancel));
            await child.OutputClosed.WaitAsync(Generous, Cancel);
            Assert.Equal(string.Empty, await child.CapturedOutput);
        }

        var lines = await File.ReadAllLinesAsync(output, Cancel);
        Assert.Equal("before", lines[0]);
        Assert.Contains("to-stdout", lines);
        Assert.Contains("to-stderr", lines);
        Assert.Contains(directory.Path, lines);
    }

    [Fact]
    public async Task Disposing_kills_a_process_that_still_runs_and_its_exit_is_still_reported()
    {
        Assert.True(ChildProcess.TryStart(new ChildProcessStart("sleep", ["600"]), out var child, out var failure), failure);
        var pid = child.Pid;
        child.Dispose();

        // 128 + SIGKILL (9), as .NET reports a process a signal ended.
        Assert.Equal(137, await child.Exited.WaitAsync(Generous, Cancel));
        Assert.False(Directory.Exists($"/proc/{pid}"), $"pid {pid} still runs (or was never reaped) after Dispose");
    }
}
