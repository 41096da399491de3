using System.Text.Json.Serialization;
using Ferry.Domain.Migrations;

namespace Ferry.Api.Migrations;

/// <summary>
/// A migration as the API shows it; <c>guest</c>, <c>sourceHost</c> and <c>targetHost</c> are names.
/// <c>progress</c> is the latest sample the source agent reported while the migration runs (null before
/// the first and after the end). <c>vnfInstanceId</c>/<c>vnfcInstanceId</c> are the guest's when the
/// migration was requested; <c>operationState</c> is <c>state</c> in ETSI SOL 003 terms.
/// </summary>
public sealed record MigrationView(Guid Id, string Guest, string SourceHost, string? TargetHost, MigrationState State,
    MigrationPolicy Policy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<TimelineEntry> Timeline,
    ResultView? Result, string? FailureReason, bool GuestOnTarget, ProgressSample? Progress,
    string? VnfInstanceId = null, string? VnfcInstanceId = null)
{
    /// <summary>The guest's id, for the guest link.</summary>
    [JsonIgnore]
    public Guid GuestId { get; init; }

    /// <summary><c>state</c> as ETSI SOL 003's LcmOperationStateType: STARTING, PROCESSING, COMPLETED, FAILED, ROLLING_BACK or ROLLED_BACK.</summary>
    public string OperationState => OperationStates.Of(State);

    /// <summary>Links to the migration, its cancel task and its guest.</summary>
    [JsonPropertyName("_links")]
    public MigrationLinks Links => new(new($"/api/v1/migrations/{Id}"), new($"/api/v1/migrations/{Id}/cancel"), new($"/api/v1/guests/{GuestId}"));

    internal static MigrationView From(Migration m) => new(m.Id, m.GuestName, m.SourceHostName, m.TargetHostName, m.State,
        m.Policy, m.CreatedAt, m.UpdatedAt, m.Timeline, m.Result is { } r ? ResultView.From(r, m.SlaMet ?? r.MeetsSla(m.Policy)) : null,
        m.FailureReason, m.GuestOnTarget, m.Progress, m.VnfInstanceId, m.VnfcInstanceId) { GuestId = m.GuestId };
}
