namespace Ferry.Lab;

/// <summary>One row of the lab's table: a case migrated by one transport, its medians and spreads over the completed migrations.</summary>
internal sealed record CaseSummary(string Case, string Transport, string Label, int Runs, int Completed, int Failed,
    Distribution? Total, Distribution? Downtime, Distribution? NetworkDowntime, Distribution? FramesLost, Distribution? PacketRate,
    IReadOnlyList<string> Failures, IReadOnlyList<string> ProbeNotes)
{
    public static CaseSummary Of(string @case, string transport, IReadOnlyList<MigrationOutcome> outcomes)
    {
        var mine = outcomes.Where(o => o.Case == @case && o.Transport == transport).ToList();
        var done = mine.Where(o => o.Completed).ToList();

        // Say what actually ran: an explicit native on a host without a dirty tracker copies with the guest paused.
        string label = transport == "native" && done.Any(o => o.PausedCopy) ? "native (paused copy)" : transport;
        return new CaseSummary(@case, transport, label, mine.Count, done.Count, mine.Count - done.Count,
            Distribution.Of(done.Select(o => o.TotalMs)),
            Distribution.Of(done.Select(o => o.DowntimeMs)),
            Distribution.Of(done.Select(o => o.NetworkDowntimeMs)),
            Distribution.Of(done.Select(o => (double?)o.FramesLost)),
            Distribution.Of(done.Select(o => o.PacketRatePps)),
            mine.Where(o => !o.Completed).Select(o => $"run {o.Run} {o.From}→{o.To}: {o.State}: {o.FailureReason ?? "no reason given"}").ToList(),
            done.Where(o => o.ProbeNote is not null).GroupBy(o => o.ProbeNote!).Select(g => $"{g.Count()}× {g.Key}").ToList());
    }
}
