namespace Ferry.Domain.Migrations;

/// <summary>One phase a migration entered, or one moment within a phase, and when.</summary>
/// <param name="State">The phase entered, or for a moment the phase it happened in.</param>
/// <param name="At">When.</param>
/// <param name="Note">Why, where it matters (a failure reason, who cancelled), or what the moment measured.</param>
/// <param name="Event">
/// Null for a phase change; for a moment within one, what happened: <c>guestPaused</c> (at the source),
/// <c>targetRunning</c>, <c>portsUp</c> (OVS at the target polls the guest's ports). Moments carry each
/// host's own clock.
/// </param>
public sealed record TimelineEntry(MigrationState State, DateTimeOffset At, string? Note = null, string? Event = null);
