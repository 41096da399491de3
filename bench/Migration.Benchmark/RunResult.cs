namespace Ferry.Migration.Benchmark;

/// <summary>
/// One migration as measured by the transport itself: QEMU's query-migrate figures for qemu, the
/// engine's EngineResult for native. Failed runs keep their reason and are left out of the medians.
/// </summary>
internal sealed record RunResult(
    int Run,
    string Transport,
    bool Succeeded,
    string? Failure,
    double TotalMs,
    double DowntimeMs,
    double? CleanupMs,
    double SetupMs,
    long Passes,
    long BytesSent,
    long FinalPassPages,
    string Detail)
{
    /// <summary>1-minute load average when the run started: this machine is shared, so the figures carry it.</summary>
    public double LoadAverage { get; init; }

    /// <summary>qemu only: wall clock from starting the migration to the target first answering "running".</summary>
    public double? TargetRunningMs { get; init; }
}
