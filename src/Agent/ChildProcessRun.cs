namespace Ferry.Agent;

/// <summary>How a short-lived tool the agent ran ended: its exit code and what it printed, or why it has no answer.</summary>
/// <param name="ExitCode">Its exit code; 128 + signal number when a signal ended it; -1 when it did not start.</param>
/// <param name="Output">What it printed on stdout.</param>
/// <param name="Error">What it printed on stderr.</param>
internal sealed record ChildProcessRun(int ExitCode, string Output, string Error)
{
    /// <summary>Why it did not run to its own end: it could not start, or it outlived its limit and was killed. Null when it exited by itself.</summary>
    public string? Failure { get; init; }

    /// <summary>True when it outlived its limit and was killed.</summary>
    public bool TimedOut { get; init; }

    /// <summary>It ran to its end and exited 0.</summary>
    public bool Succeeded => Failure is null && ExitCode == 0;
}
