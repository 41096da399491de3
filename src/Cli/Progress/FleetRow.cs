using Ferry.Cli.Output;
using Ferry.Cli.Rest;

namespace Ferry.Cli.Progress;

/// <summary>One line of a <see cref="FleetView"/>: a migration of one guest, or why there is none.</summary>
internal sealed class FleetRow(string guest)
{
    public string Guest { get; } = guest;

    /// <summary>The migration as last read from the API (its route; its result once it ended).</summary>
    public MigrationDocument? Migration { get; set; }

    public ObservedProgress? Sample { get; set; }

    /// <summary>Why this guest has no migration (the API refused it), or another word for the operator.</summary>
    public string? Note { get; set; }

    public string State => Sample?.State ?? Migration?.State ?? "refused";

    public bool HasEnded => Note is not null || (Migration?.IsTerminal ?? false);

    public string Route => Migration is { } m ? $"{m.SourceHost} → {m.TargetHost ?? "?"}" : Quantities.Unknown;

    /// <summary>The row as one line of text, for output that is not a terminal.</summary>
    public string Line()
    {
        var parts = new List<string> { Guest, Route, State };
        if (Sample?.Pass is { } pass)
        {
            parts.Add($"pass {pass}");
        }

        if (Sample?.TransferredFraction is { } fraction && !HasEnded)
        {
            parts.Add(Quantities.Percent(fraction));
        }

        if (Migration?.Result is { } r)
        {
            parts.Add($"total {Quantities.Milliseconds(r.TotalTimeMs)}");
            parts.Add($"downtime {Quantities.Milliseconds(r.NetworkDowntimeMs ?? r.DowntimeMs)}");
            parts.Add(r.SlaMet ? "SLA met" : "SLA missed");
        }

        if ((Note ?? Migration?.FailureReason) is { } why)
        {
            parts.Add(why);
        }

        return string.Join("  ", parts);
    }
}
