namespace Ferry.Agent.TestGuest;

/// <summary>
/// The verdict of <see cref="MemoryInvariant"/>. When it fails, <see cref="FailingPage"/> and
/// <see cref="FailingAddress"/> say where, and <see cref="Failure"/> says what was found.
/// </summary>
public sealed record MemoryInvariantResult(
    bool Holds,
    int PagesChecked,
    int? EdgePage,
    bool GuestHasRun,
    int? FailingPage,
    long? FailingAddress,
    string? Failure)
{
    public override string ToString() => Holds
        ? $"invariant holds over {PagesChecked} pages (edge at page {EdgePage?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, guest has run: {GuestHasRun})"
        : $"invariant broken: {Failure}";

    /// <summary>
    /// This result, failed unless the guest booted <paramref name="expected"/> times on <paramref name="instance"/>:
    /// once where it was launched, never on a migration target. A guest that restarted and finished clearing
    /// its counters holds the memory invariant, but lost its state all the same.
    /// </summary>
    public MemoryInvariantResult WithBoots(int boots, int expected, string instance)
    {
        if (boots == expected)
        {
            return this;
        }

        var restarted = $"the guest booted {boots} time(s) on {instance}, expected {expected}: it restarted, and its memory is not what it was";
        return this with { Holds = false, Failure = Failure is null ? restarted : $"{Failure}; {restarted}" };
    }
}
