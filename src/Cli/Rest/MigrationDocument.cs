using System.Text.Json;

namespace Ferry.Cli.Rest;

/// <summary>A migration as <c>GET /api/v1/migrations/{id}</c> returns it (the fields the CLI shows).</summary>
internal sealed record MigrationDocument(Guid Id, string Guest, string SourceHost, string? TargetHost, string State,
    PolicyDocument Policy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<TimelineDocumentEntry> Timeline,
    ResultDocument? Result, string? FailureReason, bool GuestOnTarget, JsonElement? Progress = null)
{
    public static MigrationDocument From(JsonElement json) => RestJson.To<MigrationDocument>(json);

    public bool IsTerminal => MigrationStates.IsTerminal(State);
}
