using System.Text.Json;

namespace Ferry.Lab.Tests;

public sealed class LabReportTests
{
    private static LabMigrationOutcome Completed(string @case, string transport, int run, double total, double downtime, double? network = null,
        long? lost = null, double? rate = null, string? reason = null) =>
        new(@case, transport, run, Guid.NewGuid(), "host-a", "host-b", "completed", null, transport, reason, total, downtime, network,
            lost is null ? null : 10_000, lost, rate, false);

    private static LabMigrationOutcome Failed(string @case, string transport, int run, string why) =>
        new(@case, transport, run, Guid.NewGuid(), "host-b", "host-a", "failed", why, null, null, null, null, null, null, null, null, null);

    [Fact]
    public void Json_line_has_exactly_the_fields_of_the_issue_in_order_with_medians()
    {
        var outcomes = new[]
        {
            Completed("l2fwd", "qemu", 1, 1000, 400, 900, 200, 499.5),
            Completed("l2fwd", "qemu", 2, 1071, 406, 896, 217, 499.8),
            Completed("l2fwd", "qemu", 3, 1200, 500, 800, 230, 500.1),
        };

        string line = LabReport.JsonLine(CaseSummary.Of("l2fwd", "qemu", outcomes));

        Assert.StartsWith("""{"case":"l2fwd","transport":"qemu","runs":3,"totalMs":1071.0,"downtimeMs":406.0,"networkDowntimeMs":896.0,"framesLost":217,"packetRatePps":499.8,""", line, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(line);
        Assert.Equal(["case", "transport", "runs", "totalMs", "downtimeMs", "networkDowntimeMs", "framesLost", "packetRatePps",
            "mode", "passes", "pauseMs", "finalScanMs", "finalTransferMs", "targetStartMs", "portsUpMs", "trafficMs"],
            json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("qemu", json.RootElement.GetProperty("mode").GetString());
    }

    [Fact]
    public void Json_line_writes_null_for_what_was_not_measured()
    {
        var outcomes = new[] { Completed("idle", "qemu", 1, 300, 9), Completed("idle", "qemu", 2, 310, 11) };

        string line = LabReport.JsonLine(CaseSummary.Of("idle", "qemu", outcomes));

        Assert.StartsWith("""{"case":"idle","transport":"qemu","runs":2,"totalMs":305.0,"downtimeMs":10.0,"networkDowntimeMs":null,"framesLost":null,"packetRatePps":null,"mode":"qemu","passes":null,""", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Failed_migrations_count_in_runs_but_not_in_the_medians_and_their_reasons_reach_the_table()
    {
        var outcomes = new[]
        {
            Completed("idle", "native", 1, 800, 700),
            Failed("idle", "native", 2, "target silent for 10 s"),
            Completed("idle", "native", 3, 900, 760),
        };

        var row = CaseSummary.Of("idle", "native", outcomes);
        string table = LabReport.Table([row]);

        Assert.Equal((3, 2, 1), (row.Runs, row.Completed, row.Failed));
        Assert.Equal(850, row.Total!.Median);
        Assert.Contains("target silent for 10 s", table, StringComparison.Ordinal);
        Assert.StartsWith("""{"case":"idle","transport":"native","runs":3,"totalMs":850.0,""", LabReport.JsonLine(row), StringComparison.Ordinal);
    }

    [Fact]
    public void Native_that_copied_with_the_guest_paused_is_labelled_so_in_the_table_but_not_in_the_json()
    {
        var outcomes = new[] { Completed("idle", "native", 1, 800, 700, reason: "no dirty tracker on this host: paused copy") };

        var row = CaseSummary.Of("idle", "native", outcomes);

        Assert.Equal("native (paused copy)", row.Label);
        Assert.Contains("native (paused copy)", LabReport.Table([row]), StringComparison.Ordinal);
        Assert.Contains("\"transport\":\"native\"", LabReport.JsonLine(row), StringComparison.Ordinal);
        Assert.Contains("\"mode\":\"paused-copy\"", LabReport.JsonLine(row), StringComparison.Ordinal);
    }

    [Fact]
    public void Native_that_moved_the_guest_live_says_so_with_its_passes_and_the_switch_overs_parts()
    {
        var outcomes = new[]
        {
            Completed("l2fwd", "native", 1, 900, 4, 9, reason: "native requested by the policy; live passes (uffd-wp: ...)") with { Passes = 5, PauseMs = 1.5, PortsUpMs = 2.5, TrafficMs = 2 },
            Completed("l2fwd", "native", 2, 950, 6, 11, reason: "native requested by the policy; live passes (uffd-wp: ...)") with { Passes = 7, PauseMs = 2.5, PortsUpMs = 3.5, TrafficMs = 2 },
        };

        var row = CaseSummary.Of("l2fwd", "native", outcomes);
        using var json = JsonDocument.Parse(LabReport.JsonLine(row));

        Assert.Equal("native (live)", row.Label);
        Assert.Equal("live", json.RootElement.GetProperty("mode").GetString());
        Assert.Equal(6, json.RootElement.GetProperty("passes").GetDouble());
        Assert.Equal(2, json.RootElement.GetProperty("pauseMs").GetDouble());
        Assert.Equal(3, json.RootElement.GetProperty("portsUpMs").GetDouble());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("finalScanMs").ValueKind);
        Assert.Contains("ports up", LabReport.Table([row]), StringComparison.Ordinal);
    }

    [Fact]
    public void Outcomes_of_other_cases_and_transports_stay_out_of_a_row()
    {
        var outcomes = new[] { Completed("idle", "qemu", 1, 300, 9), Completed("l2fwd", "qemu", 1, 1300, 20), Completed("idle", "native", 1, 800, 700) };

        var row = CaseSummary.Of("idle", "qemu", outcomes);

        Assert.Equal((1, 300.0), (row.Runs, row.Total!.Median));
    }

    [Fact]
    public void Probe_notes_are_counted_under_the_table()
    {
        var noted = Completed("l2fwd", "qemu", 1, 500, 100, lost: 10, rate: 990) with { ProbeNote = "the stream did not resume within 5 s" };
        var outcomes = new[] { noted, noted with { Run = 2 }, Completed("l2fwd", "qemu", 3, 400, 90, 150, 12, 995) };

        string table = LabReport.Table([CaseSummary.Of("l2fwd", "qemu", outcomes)]);

        Assert.Contains("2× the stream did not resume within 5 s", table, StringComparison.Ordinal);
    }
}
