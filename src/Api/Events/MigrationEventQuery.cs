using Ferry.Api.Http;
using Ferry.Api.Migrations;

namespace Ferry.Api.Events;

/// <summary>
/// The query of <c>GET /api/v1/events</c>, bound with <c>[AsParameters]</c>: the migration list's filters but
/// the VNF instance id, the state being the event's. Its members are spelled as the query string spells them:
/// a validation problem and the OpenAPI document name a parameter by its member's name.
/// </summary>
internal sealed record MigrationEventQuery
{
    /// <summary>The state the event reports.</summary>
    public string? state { get; init; }

    /// <summary>A host, by id or name, that is the source or the target.</summary>
    public string? host { get; init; }

    /// <summary>The guest, by id or name.</summary>
    public string? guest { get; init; }

    /// <summary>Migrations created at or after.</summary>
    public QueryTime? from { get; init; }

    /// <summary>Migrations created before.</summary>
    public QueryTime? to { get; init; }

    /// <summary>The filter asked for; each bad parameter adds its error to <paramref name="errors"/> (beside the header's).</summary>
    public MigrationFilter Parse(Dictionary<string, string> errors) => MigrationFilter.Parse(state, host, guest, from, to, errors);
}
