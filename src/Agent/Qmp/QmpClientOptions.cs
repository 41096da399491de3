namespace Ferry.Agent.Qmp;

/// <summary>Limits of one QMP connection, section <c>Ferry:Qmp</c>.</summary>
public sealed record QmpClientOptions
{
    public const string Section = "Ferry:Qmp";

    /// <summary>Connecting, reading the greeting and negotiating capabilities must finish within this.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Default time a command may wait for its answer; commands can override it.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A single QMP message longer than this is treated as garbage; it bounds what a hostile peer can make us buffer.</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;

    /// <summary>Events buffered per subscriber before the oldest are dropped.</summary>
    public int EventBufferCapacity { get; init; } = 4096;
}
