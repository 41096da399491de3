namespace Ferry.Domain.Migrations;

/// <summary>One phase a migration entered, and when.</summary>
/// <param name="State">The phase entered.</param>
/// <param name="At">When.</param>
/// <param name="Note">Why, where it matters (a failure reason, who cancelled).</param>
public sealed record TimelineEntry(MigrationState State, DateTimeOffset At, string? Note = null);
