using Ferry.Domain.Migrations;

namespace Ferry.Api.Migrations;

/// <summary>
/// A migration as the API shows it; <c>guest</c>, <c>sourceHost</c> and <c>targetHost</c> are names.
/// <c>progress</c> is the latest sample the source agent reported while the migration runs (null before
/// the first and after the end).
/// </summary>
public sealed record MigrationView(Guid Id, string Guest, string SourceHost, string? TargetHost, MigrationState State,
    MigrationPolicy Policy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<TimelineEntry> Timeline,
    ResultView? Result, string? FailureReason, bool GuestOnTarget, ProgressSample? Progress)
{
    internal static MigrationView From(Migration m) => new(m.Id, m.GuestName, m.SourceHostName, m.TargetHostName, m.State,
        m.Policy, m.CreatedAt, m.UpdatedAt, m.Timeline, m.Result is { } r ? ResultView.From(r, m.SlaMet ?? r.MeetsSla(m.Policy)) : null,
        m.FailureReason, m.GuestOnTarget, m.Progress);
}
