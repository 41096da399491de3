namespace Ferry.Cli.Rest;

/// <summary>One entry of a migration's timeline: a phase entered, or a moment within one (<c>event</c>).</summary>
internal sealed record TimelineDocumentEntry(string State, DateTimeOffset At, string? Note, string? Event);
