using Ferry.Api.Migrations;

namespace Ferry.Api.Events;

/// <summary>
/// The query of <c>GET /api/v1/events</c>, bound with <c>[AsParameters]</c>: the migration list's filters but
/// the VNF instance id, the state being the event's. Its members are spelled as the query string spells them:
/// a binding error and the OpenAPI document name a parameter by its member's name.
/// </summary>
/// <param name="state">The state the event reports.</param>
/// <param name="host">A host, by id or name, that is the source or the target.</param>
/// <param name="guest">The guest, by id or name.</param>
/// <param name="from">Migrations created at or after.</param>
/// <param name="to">Migrations created before.</param>
internal sealed record MigrationEventQuery(string? state, string? host, string? guest, DateTimeOffset? from, DateTimeOffset? to)
{
    /// <summary>The filter asked for; each bad parameter adds its error to <paramref name="errors"/> (beside the header's).</summary>
    public MigrationFilter Parse(Dictionary<string, string> errors) => MigrationFilter.Parse(state, host, guest, from, to, errors);
}
