namespace Ferry.Lab;

/// <summary>One row of the lab's table: a case migrated by one transport, its medians and spreads over the completed migrations.</summary>
internal sealed record CaseSummary(string Case, string Transport, string Label, int Runs, int Completed, int Failed,
    Distribution? Total, Distribution? Downtime, Distribution? NetworkDowntime, Distribution? FramesLost, Distribution? PacketRate,
    IReadOnlyList<string> Failures, IReadOnlyList<string> ProbeNotes)
{
    /// <summary>How the completed migrations moved the guest: <c>live</c>, <c>paused-copy</c> or <c>qemu</c> (the most common; null when none completed).</summary>
    public string? Mode { get; init; }

    public Distribution? Passes { get; init; }

    /// <summary>The switch-over's parts: native downtime steps, then the ports coming up at the target and the traffic's return.</summary>
    public Distribution? PauseMs { get; init; }

    public Distribution? FinalScanMs { get; init; }

    public Distribution? FinalTransferMs { get; init; }

    public Distribution? TargetStartMs { get; init; }

    public Distribution? PortsUpMs { get; init; }

    public Distribution? TrafficMs { get; init; }

    public static CaseSummary Of(string @case, string transport, IReadOnlyList<LabMigrationOutcome> outcomes)
    {
        var mine = outcomes.Where(o => o.Case == @case && o.Transport == transport).ToList();
        var done = mine.Where(o => o.Completed).ToList();

        // Say what actually ran: an explicit native on a host without a dirty tracker copies with the guest paused.
        string? mode = done.GroupBy(o => o.Mode).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault();
        string label = transport == "native" && mode is { } m ? $"native ({(m == "paused-copy" ? "paused copy" : m)})" : transport;
        return new CaseSummary(@case, transport, label, mine.Count, done.Count, mine.Count - done.Count,
            Distribution.Of(done.Select(o => o.TotalMs)),
            Distribution.Of(done.Select(o => o.DowntimeMs)),
            Distribution.Of(done.Select(o => o.NetworkDowntimeMs)),
            Distribution.Of(done.Select(o => (double?)o.FramesLost)),
            Distribution.Of(done.Select(o => o.PacketRatePps)),
            mine.Where(o => !o.Completed).Select(o => $"run {o.Run} {o.From}→{o.To}: {o.State}: {o.FailureReason ?? "no reason given"}").ToList(),
            done.Where(o => o.ProbeNote is not null).GroupBy(o => o.ProbeNote!).Select(g => $"{g.Count()}× {g.Key}").ToList())
        {
            Mode = mode,
            Passes = Distribution.Of(done.Select(o => (double?)o.Passes)),
            PauseMs = Distribution.Of(done.Select(o => o.PauseMs)),
            FinalScanMs = Distribution.Of(done.Select(o => o.FinalScanMs)),
            FinalTransferMs = Distribution.Of(done.Select(o => o.FinalTransferMs)),
            TargetStartMs = Distribution.Of(done.Select(o => o.TargetStartMs)),
            PortsUpMs = Distribution.Of(done.Select(o => o.PortsUpMs)),
            TrafficMs = Distribution.Of(done.Select(o => o.TrafficMs)),
        };
    }
}
