namespace Ferry.Api.Testing;

/// <summary>
/// Test-only fault injection, section <c>Ferry:Testing</c>. Inert unless <see cref="HoldFile"/> is set;
/// never set it in production: while the file says <c>queued</c> the scheduler schedules nothing.
/// </summary>
public sealed class QueueHoldOptions
{
    public const string Section = "Ferry:Testing";

    /// <summary>
    /// A file; while it holds the word <c>queued</c>, queued migrations stay queued and the scheduler writes
    /// <c>HoldFile.held</c> (<c>queued</c> and the migration id). The end-to-end fault suite kills parts then.
    /// The agents read the same file for the phases they run (<c>Ferry:Testing:HoldFile</c> of theirs).
    /// </summary>
    public string? HoldFile { get; set; }
}
