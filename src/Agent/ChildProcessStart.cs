namespace Ferry.Agent;

/// <summary>What the agent starts: a binary and its argument array, never a command line for a shell.</summary>
/// <param name="Binary">The program, by path or by name on <c>PATH</c>.</param>
/// <param name="Arguments">Its arguments, one element each: no quoting, no word splitting.</param>
internal sealed record ChildProcessStart(string Binary, IReadOnlyList<string> Arguments)
{
    /// <summary>Variables set on top of the agent's own environment; a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Where it starts; the agent's own working directory when null.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// When set, its stdout and stderr are appended to this file as they arrive (a daemon's or a QEMU's
    /// words are for the operator, and must not fill a pipe nobody reads); when null they are captured.
    /// </summary>
    public string? OutputFile { get; init; }

    /// <summary>The program's file name and its arguments, for messages.</summary>
    public string Describe() => ChildProcess.Describe(Binary, Arguments);
}
