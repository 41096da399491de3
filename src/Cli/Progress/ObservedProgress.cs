using System.Text.Json;
using System.Text.Json.Serialization;
using Ferry.Cli.Rest;

namespace Ferry.Cli.Progress;

/// <summary>
/// One observation of a migration: its state and, while pages move, how far they are. The names are
/// the API's event fields (issue 14 §1), and <c>ferry watch --output json</c> writes samples with them. The CLI's
/// view; the Domain's <c>ProgressSample</c> is what an agent reported.
/// </summary>
internal sealed record ObservedProgress(Guid MigrationId, string State, int? Pass, long? RemainingBytes, long? TransferredBytes,
    double? DirtyPagesPerSecond, double? ThroughputMbps, double? ExpectedDowntimeMs, DateTimeOffset? At)
{
    [JsonIgnore]
    public bool IsTerminal => MigrationStates.IsTerminal(State);

    /// <summary>Transferred / (transferred + remaining), when both are known.</summary>
    [JsonIgnore]
    public double? TransferredFraction => (TransferredBytes, RemainingBytes) switch
    {
        ({ } sent, { } left) when sent + left > 0 => (double)sent / (sent + left),
        _ => null,
    };

    /// <summary>Whether it carries any transfer figure (a state change alone does not).</summary>
    [JsonIgnore]
    public bool HasFigures => Pass is not null || RemainingBytes is not null || TransferredBytes is not null || DirtyPagesPerSecond is not null
        || ThroughputMbps is not null || ExpectedDowntimeMs is not null;

    /// <summary>
    /// This sample, with the figures of <paramref name="before"/> (of the same migration) when it has none:
    /// a state event (switchingOver) says nothing about the pages, and the bar must not empty because of it.
    /// </summary>
    public ObservedProgress KeepFigures(ObservedProgress? before) =>
        HasFigures || before is null || before.MigrationId != MigrationId
            ? this
            : this with
            {
                Pass = before.Pass, RemainingBytes = before.RemainingBytes, TransferredBytes = before.TransferredBytes,
                DirtyPagesPerSecond = before.DirtyPagesPerSecond, ThroughputMbps = before.ThroughputMbps, ExpectedDowntimeMs = before.ExpectedDowntimeMs,
            };

    /// <summary>The same observation, whenever it was made: polling repeats an unchanged migration with a new time.</summary>
    [JsonIgnore]
    public ObservedProgress Timeless => this with { At = null };

    /// <summary>
    /// An event's data: <c>{migrationId, state, pass, ...}</c> with every figure optional; a whole
    /// migration (<c>{id, state, ...}</c>, as a stream may end with the result) reads too. Null for data
    /// that says no state, or that is not a JSON object.
    /// </summary>
    public static ObservedProgress? FromEvent(JsonElement data, Guid? migrationId)
    {
        if (data.ValueKind != JsonValueKind.Object || Text(data, "state") is not { } state)
        {
            return null;
        }

        var id = Id(data, "migrationId") ?? Id(data, "id") ?? migrationId;
        if (id is null)
        {
            return null;
        }

        var figures = data.TryGetProperty("progress", out var progress) && progress.ValueKind == JsonValueKind.Object ? progress : data;
        return WithFigures(id.Value, state, figures, Time(data, "at") ?? Time(data, "updatedAt"));
    }

    /// <summary>A migration as <c>GET /api/v1/migrations/{id}</c> returns it; the figures come from its <c>progress</c> while it runs (when the API has it).</summary>
    public static ObservedProgress FromMigration(JsonElement migration)
    {
        var id = Id(migration, "id") ?? throw new CommandFailure(ExitCodes.ApiUnavailable, "the API answered a migration without an id");
        var state = Text(migration, "state") ?? throw new CommandFailure(ExitCodes.ApiUnavailable, $"the API answered migration {id} without a state");
        if (migration.TryGetProperty("progress", out var progress) && progress.ValueKind == JsonValueKind.Object)
        {
            return WithFigures(id, state, progress, Time(progress, "at") ?? Time(migration, "updatedAt"));
        }

        return new(id, state, null, null, null, null, null, null, Time(migration, "updatedAt"));
    }

    private static ObservedProgress WithFigures(Guid id, string state, JsonElement figures, DateTimeOffset? at) =>
        new(id, state, (int?)Number(figures, "pass"), (long?)Number(figures, "remainingBytes"), (long?)Number(figures, "transferredBytes"),
            Number(figures, "dirtyPagesPerSecond"), Number(figures, "throughputMbps"), Number(figures, "expectedDowntimeMs"), at);

    private static string? Text(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static Guid? Id(JsonElement o, string name) => Guid.TryParse(Text(o, name), out var id) ? id : null;

    private static double? Number(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) ? d : null;

    private static DateTimeOffset? Time(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out var t) ? t : null;
}
