using System.Text.Json;
using Ferry.Agent.Qmp;
using Ferry.Agent.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Ferry.Agent.Tests.Qmp;

[Trait("Tier", "fast")]
public sealed class QmpClientTests
{
    private static readonly QmpClientOptions Options = new() { ConnectTimeout = TimeSpan.FromSeconds(5), CommandTimeout = TimeSpan.FromSeconds(5) };

    private static Task<QmpClient> ConnectAsync(FakeQmpServer server, TimeProvider? time = null, QmpClientOptions? options = null) =>
        QmpClient.ConnectAsync(server.SocketPath, options ?? Options, time ?? TimeProvider.System, NullLogger.Instance, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Connect_reads_the_greeting_and_negotiates_capabilities()
    {
        var negotiated = new TaskCompletionSource();
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            negotiated.SetResult();
            await peer.ReadCommandAsync();
        });

        await using var client = await ConnectAsync(server);

        Assert.Equal((7, 2, 0), (client.Greeting.Major, client.Greeting.Minor, client.Greeting.Micro));
        Assert.Contains("oob", client.Greeting.Capabilities);
        await negotiated.Task.WaitAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Commands_are_serialized_as_json_with_kebab_case_arguments_and_nulls_left_out()
    {
        var seen = new TaskCompletionSource<JsonElement>();
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            var command = await peer.ExpectAsync("migrate-set-parameters");
            seen.SetResult(command);
            await peer.ReplyAsync(command);
        });
        await using var client = await ConnectAsync(server);

        await client.SetMigrationParametersAsync(new MigrationParameters { DowntimeLimitMs = 10, MaxBandwidthBytesPerSecond = 5_000_000 }, TestContext.Current.CancellationToken);

        var arguments = (await seen.Task).GetProperty("arguments");
        Assert.Equal(10, arguments.GetProperty("downtime-limit").GetInt64());
        Assert.Equal(5_000_000, arguments.GetProperty("max-bandwidth").GetInt64());
        Assert.False(arguments.TryGetProperty("multifd-channels", out _));
    }

    [Theory]
    [InlineData("quit\n")]
    [InlineData("query-status\", \"x\": \"")]
    [InlineData("")]
    public async Task A_command_name_that_is_not_a_qmp_identifier_is_refused_before_anything_is_sent(string name)
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            var unexpected = await peer.ReadCommandAsync();
            Assert.Null(unexpected);
        });
        var client = await ConnectAsync(server);

        await Assert.ThrowsAsync<ArgumentException>(() => client.ExecuteAsync(name, cancellationToken: TestContext.Current.CancellationToken));

        await client.DisposeAsync();
        await server.DisposeAsync();
        Assert.Empty(server.ScriptFailures);
    }

    [Fact]
    public async Task An_error_answer_becomes_a_command_failure_carrying_qemus_error_class()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            var command = await peer.ExpectAsync("migrate");
            await peer.ReplyErrorAsync(command, "GenericError", "Failed to connect socket: Connection refused");
            await peer.ReplyAsync(await peer.ExpectAsync("query-status"), """{"status": "running", "running": true}""");
        });
        await using var client = await ConnectAsync(server);

        var failure = await Assert.ThrowsAsync<QmpException>(() =>
            client.MigrateAsync(MigrationUri.Tcp(System.Net.IPAddress.Loopback, 1), TestContext.Current.CancellationToken));

        Assert.Equal(QmpFailure.CommandFailed, failure.Failure);
        Assert.Equal("GenericError", failure.ErrorClass);
        Assert.Equal("migrate", failure.Command);
        Assert.Contains("Connection refused", failure.Message, StringComparison.Ordinal);
        var status = await client.QueryStatusAsync(TestContext.Current.CancellationToken);
        Assert.True(status.Running);
    }

    [Fact]
    public async Task Answers_are_matched_to_their_commands_by_id_when_they_arrive_out_of_order()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            var first = await peer.ReadCommandAsync();
            var second = await peer.ReadCommandAsync();
            await peer.ReplyAsync(second!.Value, """{"status": "paused", "running": false}""");
            await peer.ReplyAsync(first!.Value, """{"status": "completed", "total-time": 42}""");
        });
        await using var client = await ConnectAsync(server);

        var migrate = client.QueryMigrateAsync(TestContext.Current.CancellationToken);
        var status = client.QueryStatusAsync(TestContext.Current.CancellationToken);

        Assert.Equal("paused", (await status).Status);
        Assert.Equal(42, (await migrate).TotalTimeMs);
        Assert.Equal(QmpMigrationStatus.Completed, (await migrate).State);
    }

    [Fact]
    public async Task Query_migrate_parses_times_and_ram_statistics()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ReplyAsync(await peer.ExpectAsync("query-migrate"), """
                {"expected-downtime": 300, "status": "completed", "setup-time": 3, "total-time": 812, "downtime": 17,
                 "ram": {"total": 268877824, "postcopy-requests": 0, "dirty-sync-count": 4, "multifd-bytes": 0,
                 "pages-per-second": 81234, "downtime-bytes": 1234, "page-size": 4096, "remaining": 0,
                 "postcopy-bytes": 0, "mbps": 2644.87, "transferred": 270000000, "dirty-sync-missed-zero-copy": 0,
                 "precopy-bytes": 269000000, "duplicate": 1000, "dirty-pages-rate": 123, "skipped": 0,
                 "normal-bytes": 265000000, "normal": 64697}}
                """.ReplaceLineEndings(" "));
        });
        await using var client = await ConnectAsync(server);

        var info = await client.QueryMigrateAsync(TestContext.Current.CancellationToken);

        Assert.Equal((812L, 17L, 3L), (info.TotalTimeMs, info.DowntimeMs, info.SetupTimeMs));
        var ram = Assert.IsType<MigrationRamStats>(info.Ram);
        Assert.Equal(270000000, ram.Transferred);
        Assert.Equal(268877824, ram.Total);
        Assert.Equal(0, ram.Remaining);
        Assert.Equal(1000, ram.Duplicate);
        Assert.Equal(64697, ram.Normal);
        Assert.Equal(123, ram.DirtyPagesRate);
        Assert.Equal(2644.87, ram.Mbps, 2);
        Assert.Equal(4, ram.DirtySyncCount);
    }

    [Fact]
    public async Task Garbage_instead_of_an_answer_fails_the_pending_command_and_every_later_one()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ExpectAsync("query-status");
            await peer.SendLineAsync("\u0001\u0002 this is not json {{{");
            await peer.ReadCommandAsync();
        });
        await using var client = await ConnectAsync(server);

        var failure = await Assert.ThrowsAsync<QmpException>(() => client.QueryStatusAsync(TestContext.Current.CancellationToken));
        var later = await Assert.ThrowsAsync<QmpException>(() => client.QueryStatusAsync(TestContext.Current.CancellationToken));

        Assert.Equal(QmpFailure.ProtocolViolation, failure.Failure);
        Assert.Equal(QmpFailure.ProtocolViolation, later.Failure);
        Assert.Equal(QmpFailure.ProtocolViolation, (await client.Closed).Failure);
    }

    [Theory]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"return\": {}}")]
    [InlineData("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}")]
    [InlineData("{\"hello\": \"world\"}")]
    [InlineData("{\"event\": 17}")]
    public async Task Well_formed_json_that_is_not_a_qmp_message_is_a_protocol_violation(string message)
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ExpectAsync("query-status");
            await peer.SendLineAsync(message);
            await peer.ReadCommandAsync();
        });
        await using var client = await ConnectAsync(server);

        var failure = await Assert.ThrowsAsync<QmpException>(() => client.QueryStatusAsync(TestContext.Current.CancellationToken));

        Assert.Equal(QmpFailure.ProtocolViolation, failure.Failure);
    }

    [Fact]
    public async Task A_greeting_that_is_not_qmp_fails_the_connect()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.SendLineAsync("""{"SSH-2.0": "OpenSSH"}""");
            await peer.ReadCommandAsync();
        });

        var failure = await Assert.ThrowsAsync<QmpException>(() => ConnectAsync(server));

        Assert.Equal(QmpFailure.ProtocolViolation, failure.Failure);
    }

    [Fact]
    public async Task A_rejected_capabilities_negotiation_fails_the_connect()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.SendLineAsync(FakeQmpPeer.Greeting);
            await peer.ReplyErrorAsync(await peer.ExpectAsync("qmp_capabilities"), "CommandNotFound", "nope");
            await peer.ReadCommandAsync();
        });

        var failure = await Assert.ThrowsAsync<QmpException>(() => ConnectAsync(server));

        Assert.Equal(QmpFailure.CommandFailed, failure.Failure);
    }

    [Fact]
    public async Task Connecting_to_a_socket_nobody_listens_on_fails_as_connection_closed()
    {
        using var directory = new TestDirectory();

        var failure = await Assert.ThrowsAsync<QmpException>(() =>
            QmpClient.ConnectAsync(directory.File("absent.sock"), Options, TimeProvider.System, NullLogger.Instance, TestContext.Current.CancellationToken));

        Assert.Equal(QmpFailure.ConnectionClosed, failure.Failure);
    }

    [Fact]
    public async Task A_peer_that_closes_in_the_middle_of_a_command_fails_it_as_connection_closed()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ExpectAsync("query-migrate");
            peer.Close();
        });
        await using var client = await ConnectAsync(server);

        var failure = await Assert.ThrowsAsync<QmpException>(() => client.QueryMigrateAsync(TestContext.Current.CancellationToken));

        Assert.Equal(QmpFailure.ConnectionClosed, failure.Failure);
        Assert.Equal("query-migrate", failure.Command);
    }

    [Fact]
    public async Task A_peer_that_closes_halfway_through_a_message_fails_the_command_as_connection_closed()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ExpectAsync("query-migrate");
            await peer.SendAsync("{\"return\": {\"status\": \"act");
            peer.Close();
        });
        await using var client = await ConnectAsync(server);

        var failure = await Assert.ThrowsAsync<QmpException>(() => client.QueryMigrateAsync(TestContext.Current.CancellationToken));

        Assert.Equal(QmpFailure.ConnectionClosed, failure.Failure);
    }

    [Fact]
    public async Task A_message_larger_than_the_limit_is_refused_as_garbage()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ExpectAsync("query-status");
            await peer.SendAsync("{\"return\": \"" + new string('x', 64 * 1024));
            await peer.ReadCommandAsync();
        });
        await using var client = await ConnectAsync(server, options: Options with { MaxMessageBytes = 16 * 1024 });

        var failure = await Assert.ThrowsAsync<QmpException>(() => client.QueryStatusAsync(TestContext.Current.CancellationToken));

        Assert.Equal(QmpFailure.ProtocolViolation, failure.Failure);
    }

    [Fact]
    public async Task A_peer_that_never_answers_times_the_command_out()
    {
        var time = new FakeTimeProvider();
        var received = new TaskCompletionSource();
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ExpectAsync("query-status");
            received.SetResult();
            await peer.ReadCommandAsync();
        });
        await using var client = await ConnectAsync(server, time);

        var pending = client.ExecuteAsync("query-status", TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        await received.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(3));

        var failure = await Assert.ThrowsAsync<QmpException>(() => pending);
        Assert.Equal(QmpFailure.Timeout, failure.Failure);
        Assert.Equal("query-status", failure.Command);
    }

    [Fact]
    public async Task A_peer_that_never_greets_times_the_connect_out()
    {
        var time = new FakeTimeProvider();
        var accepted = new TaskCompletionSource();
        await using var server = new FakeQmpServer(async peer =>
        {
            accepted.SetResult();
            await peer.ReadCommandAsync();
        });

        var connecting = ConnectAsync(server, time);
        await accepted.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(Options.ConnectTimeout);

        var failure = await Assert.ThrowsAsync<QmpException>(() => connecting);
        Assert.Equal(QmpFailure.Timeout, failure.Failure);
    }

    [Fact]
    public async Task A_cancelled_command_throws_operation_cancelled_and_its_late_answer_does_not_confuse_the_next_command()
    {
        var cancelled = new TaskCompletionSource();
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            var slow = await peer.ExpectAsync("query-migrate");
            await cancelled.Task;
            await peer.ReplyAsync(slow, """{"status": "active"}""");
            await peer.ReplyAsync(await peer.ExpectAsync("query-status"), """{"status": "running", "running": true}""");
        });
        await using var client = await ConnectAsync(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var slowQuery = client.QueryMigrateAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slowQuery);
        cancelled.SetResult();

        var status = await client.QueryStatusAsync(TestContext.Current.CancellationToken);
        Assert.Equal("running", status.Status);
    }

    [Fact]
    public async Task Events_reach_a_subscriber_in_order_with_their_data_and_the_stream_ends_when_the_peer_closes()
    {
        var subscribed = new TaskCompletionSource();
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            await subscribed.Task;
            await peer.SendEventAsync("MIGRATION", """{"status": "setup"}""");
            await peer.SendEventAsync("MIGRATION_PASS", """{"pass": 1}""");
            await peer.SendEventAsync("STOP");
            await peer.SendEventAsync("RESUME");
            await peer.SendEventAsync("MIGRATION", """{"status": "completed"}""");
            peer.Close();
        });
        await using var client = await ConnectAsync(server);
        using var subscription = client.SubscribeEvents();
        subscribed.SetResult();

        var events = new List<QmpEvent>();
        var end = await Assert.ThrowsAsync<QmpException>(async () =>
        {
            await foreach (var e in subscription.Reader.ReadAllAsync(TestContext.Current.CancellationToken))
            {
                events.Add(e);
            }
        });

        Assert.Equal(["MIGRATION", "MIGRATION_PASS", "STOP", "RESUME", "MIGRATION"], events.Select(e => e.Name));
        Assert.Equal("setup", events[0].Data.GetProperty("status").GetString());
        Assert.Equal(1, events[1].Data.GetProperty("pass").GetInt32());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), events[0].Timestamp.AddTicks(-50));
        Assert.Equal(QmpFailure.ConnectionClosed, end.Failure);
    }

    [Fact]
    public async Task Events_interleaved_with_answers_do_not_disturb_the_command()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            var command = await peer.ExpectAsync("query-status");
            await peer.SendEventAsync("STOP");
            await peer.ReplyAsync(command, """{"status": "paused", "running": false}""");
            await peer.ReadCommandAsync();
        });
        await using var client = await ConnectAsync(server);
        using var subscription = client.SubscribeEvents();

        var status = await client.QueryStatusAsync(TestContext.Current.CancellationToken);
        var stop = await subscription.Reader.ReadAsync(TestContext.Current.CancellationToken);

        Assert.False(status.Running);
        Assert.Equal(QmpEvent.Stop, stop.Name);
    }

    [Fact]
    public async Task An_answer_of_the_wrong_shape_for_a_typed_command_is_a_protocol_violation()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ReplyAsync(await peer.ExpectAsync("query-status"), """{"status": 12, "running": "yes"}""");
            await peer.ReadCommandAsync();
        });
        await using var client = await ConnectAsync(server);

        var failure = await Assert.ThrowsAsync<QmpException>(() => client.QueryStatusAsync(TestContext.Current.CancellationToken));

        Assert.Equal(QmpFailure.ProtocolViolation, failure.Failure);
    }

    [Fact]
    public async Task Commands_after_dispose_fail_as_connection_closed()
    {
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ReadCommandAsync();
        });
        var client = await ConnectAsync(server);
        await client.DisposeAsync();

        var failure = await Assert.ThrowsAsync<QmpException>(() => client.QueryStatusAsync(TestContext.Current.CancellationToken));

        Assert.Equal(QmpFailure.ConnectionClosed, failure.Failure);
    }
}
