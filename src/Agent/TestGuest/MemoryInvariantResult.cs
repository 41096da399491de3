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
}
