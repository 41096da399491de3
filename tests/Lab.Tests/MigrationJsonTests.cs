using System.Text.Json;

namespace Ferry.Lab.Tests;

public sealed class MigrationJsonTests
{
    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    [Fact]
    public void A_completed_migration_yields_the_hypervisor_and_the_probe_figures()
    {
        var migration = Parse("""
            {"id":"5f0c8a52-8f7e-4a0e-9d51-6c1f7e0a9b11","guest":"lab-fwd","sourceHost":"host-a","targetHost":"host-b","state":"completed",
             "timeline":[{"state":"queued","at":"2026-11-26T08:00:00Z","note":null}],
             "result":{"transport":"qemu","totalTimeMs":1071,"downtimeMs":406,"networkDowntimeMs":896.5,"framesSent":12000,"framesLost":217,
                       "packetRatePps":499.8,"slaMet":false,"transportReason":"asked for qemu"},
             "failureReason":null,"guestOnTarget":true}
            """);

        var outcome = MigrationJson.Outcome(migration, "l2fwd", "qemu", 1, "host-a", "host-b");

        Assert.True(outcome.Completed);
        Assert.Equal((1071.0, 406.0, 896.5, 12000L, 217L, 499.8), (outcome.TotalMs!.Value, outcome.DowntimeMs!.Value, outcome.NetworkDowntimeMs!.Value,
            outcome.FramesSent!.Value, outcome.FramesLost!.Value, outcome.PacketRatePps!.Value));
        Assert.Equal(("qemu", "asked for qemu", false), (outcome.ReportedTransport, outcome.TransportReason, outcome.SlaMet));
        Assert.False(outcome.PausedCopy);
    }

    [Fact]
    public void Figures_an_api_does_not_send_read_as_not_measured()
    {
        var migration = Parse("""
            {"id":"5f0c8a52-8f7e-4a0e-9d51-6c1f7e0a9b11","sourceHost":"host-b","targetHost":"host-a","state":"completed",
             "result":{"transport":"native","totalTimeMs":183.7,"downtimeMs":178.4,"networkDowntimeMs":null,
                       "transportReason":"no dirty tracker sees every writer here: the guest is paused for the whole copy",
                       "probeNote":"the stream did not resume within 5 s"}}
            """);

        var outcome = MigrationJson.Outcome(migration, "idle", "native", 2, "host-b", "host-a");

        Assert.Null(outcome.NetworkDowntimeMs);
        Assert.Null(outcome.FramesLost);
        Assert.Null(outcome.PacketRatePps);
        Assert.True(outcome.PausedCopy);
        Assert.Equal("the stream did not resume within 5 s", outcome.ProbeNote);
    }

    [Fact]
    public void A_failed_migration_keeps_its_reason_and_has_no_figures()
    {
        var migration = Parse("""{"id":"5f0c8a52-8f7e-4a0e-9d51-6c1f7e0a9b11","state":"failed","result":null,"failureReason":"target silent for 10 s"}""");

        var outcome = MigrationJson.Outcome(migration, "l2fwd", "native", 3, "host-a", "host-b");

        Assert.True(MigrationJson.HasEnded(migration));
        Assert.False(outcome.Completed);
        Assert.Equal(("failed", "target silent for 10 s", "host-a", "host-b"), (outcome.State, outcome.FailureReason, outcome.From, outcome.To));
        Assert.Null(outcome.TotalMs);
    }
}
