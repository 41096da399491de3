using System.Text.Json;
using Ferry.Cli.Tests.Support;
using Ferry.Testing;

namespace Ferry.Cli.Tests.Progress;

/// <summary>
/// <c>ferry watch</c> fed by an event stream (the stand-in server of issue 14's contract): the live
/// display in a pseudo-terminal with its bar and figures, and the fall-back to polling where the API
/// serves no stream.
/// </summary>
public sealed class EventStreamDisplayTests : IAsyncLifetime
{
    private readonly EventStreamServer _server = new();
    private readonly List<FerryProcess> _processes = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("ferry-cli-test-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await _server.StartAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }

        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Watch_in_a_terminal_draws_phase_pass_bar_and_rates_live_then_the_result_with_the_verdict_in_colour()
    {
        _server.State("running");
        var ferry = Terminal(_server, "watch", _server.MigrationId.ToString());
        await ferry.WaitForOutputAsync("event stream", Ct);

        _server.Progress(pass: 1, transferred: 64 << 20, remaining: 192 << 20, dirtyPagesPerSecond: 1200, throughputMbps: 900);
        await ferry.WaitForOutputAsync("25%", Ct);
        _server.Progress(pass: 2, transferred: 192 << 20, remaining: 64 << 20, dirtyPagesPerSecond: 300, throughputMbps: 950);
        await ferry.WaitForOutputAsync("75%", Ct);
        _server.State("switchingOver");
        await ferry.WaitForOutputAsync("switchingOver", Ct);
        _server.State("completed", EventStreamServer.CompletedResult(412, 4.2, slaMet: true));
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        var raw = result.Output;
        var screen = PseudoTerminal.Visible(raw);
        // Drawn in place: the cursor hidden, then moved up over the display to redraw it.
        Assert.Contains("\u001b[?25l", raw);
        Assert.Matches(@"\u001b\[\d*A", raw);
        Assert.Contains("vnf-7  host-a → host-b", screen);
        Assert.Contains($"{_server.MigrationId} (event stream)", screen);
        Assert.Matches(@"running\s+pass 1", screen);
        Assert.Contains("25%  64.0 MiB sent, 192.0 MiB left", screen);
        Assert.Contains("dirty 1,200 pages/s   throughput 900 Mbit/s   expected downtime 3.5 ms", screen);
        Assert.Matches(@"running\s+pass 2", screen);
        Assert.Contains("75%  192.0 MiB sent, 64.0 MiB left", screen);
        // The switch-over keeps the bar where the last pass left it.
        Assert.Matches(@"switchingOver\s+pass 2", screen);
        Assert.Matches(@"total time\s+│\s+412 ms", screen);
        // The verdict in green: an SGR sequence with 32 (or 256-colour 2) right before it.
        Assert.Matches(@"\u001b\[[0-9;]*(32|92|38;5;2|38;5;10)[0-9;]*mmet\u001b\[0m", raw);
    }

    [Fact]
    public async Task A_missed_SLA_is_red_and_exits_1_with_fail_on_sla()
    {
        _server.State("running");
        var ferry = Terminal(_server, "watch", _server.MigrationId.ToString(), "--fail-on-sla");
        await ferry.WaitForOutputAsync("event stream", Ct);
        _server.State("completed", EventStreamServer.CompletedResult(412, 25, slaMet: false));
        var result = await ferry.ExitAsync(Ct);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Matches(@"\u001b\[[0-9;]*(31|91|38;5;1|38;5;9)[0-9;]*mmissed\u001b\[0m", result.Output);
    }

    [Fact]
    public async Task Without_a_stream_watch_falls_back_to_polling_unless_events_are_insisted_on()
    {
        await using var old = new EventStreamServer { ServesEvents = false };
        await old.StartAsync();
        old.State("running");
        var insisted = await Start(old, [], "watch", old.MigrationId.ToString(), "--feed", "events").ExitAsync(Ct);
        var table = Start(old, [], "watch", old.MigrationId.ToString());
        await table.WaitForOutputAsync($"following migration {old.MigrationId} (polling)", Ct);
        old.State("completed", EventStreamServer.CompletedResult(300, 3, slaMet: true));
        var tableResult = await table.ExitAsync(Ct);
        var json = await Start(old, [], "watch", old.MigrationId.ToString(), "-o", "json").ExitAsync(Ct);

        Assert.True(insisted.ExitCode == 3, insisted.ToString());
        Assert.Contains("serves no event stream", insisted.Error);
        Assert.True(tableResult.ExitCode == 0, tableResult.ToString());
        Assert.Matches(@"SLA\s+│\s+met", tableResult.Output);
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal(old.Migration.ToJsonString(), JsonSerializer.Serialize(JsonDocument.Parse(json.Output).RootElement));
    }

    private FerryProcess Terminal(EventStreamServer server, params string[] args)
    {
        var environment = new Dictionary<string, string> { ["TERM"] = "xterm-256color", ["FERRY_API"] = server.Url };
        return Track(FerryProcess.Start(PseudoTerminal.Script, PseudoTerminal.Wrap("dotnet", [FerryProcess.Dll, .. args], columns: 160), environment, _directory));
    }

    private FerryProcess Start(EventStreamServer server, Dictionary<string, string> environment, params string[] args)
    {
        environment["FERRY_API"] = server.Url;
        return Track(FerryProcess.Start("dotnet", [FerryProcess.Dll, .. args], environment, _directory));
    }

    private FerryProcess Track(FerryProcess p)
    {
        _processes.Add(p);
        return p;
    }
}
