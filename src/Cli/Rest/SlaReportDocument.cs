namespace Ferry.Cli.Rest;

/// <summary>The SLA report as <c>GET /api/v1/reports/sla</c> returns it.</summary>
internal sealed record SlaReportDocument(DateTimeOffset? From, DateTimeOffset? To, string? Host, SlaFiguresDocument Overall,
    IReadOnlyList<SlaFiguresDocument> Pairs);
