namespace Ferry.Agent.Migration.Transports;

/// <summary>How far a migration got: one sample while it runs, and the last one in its result.</summary>
public sealed record TransportProgress(
    long Pass,
    long TransferredBytes,
    long RemainingBytes,
    long TotalBytes,
    double DirtyPagesPerSecond,
    double ThroughputMbps);
