using System.Net;
using Ferry.Agent.Migration;
using Ferry.Agent.Qmp;
using Ferry.Agent.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Ferry.Agent.Migration.Transports.Qemu;

namespace Ferry.Agent.Tests.Migration.Transports.Qemu;

/// <summary>Failures a real QEMU cannot produce on demand, injected through a fake QMP source.</summary>
[Trait("Tier", "fast")]
public sealed class QemuMigrationFaultTests
{
    private static readonly MigrationUri Destination = MigrationUri.Tcp(IPAddress.Loopback, 4444);

    private static QemuMigration NewMigration() => TestMigrations.Create();

    /// <summary>Runs a migration on a fake clock, advancing it one poll interval at a time until the migration ends.</summary>
    private static async Task<QemuMigrationResult> MigrateOnFakeClockAsync(QemuMigrationRequest request)
    {
        var time = new FakeTimeProvider();
        var migration = new QemuMigration(time, new QemuMigrationMetrics(TestMigrations.SharedMeterFactory), NullLogger<QemuMigration>.Instance);
        var running = migration.MigrateAsync(request, TestContext.Current.CancellationToken);
        while (!running.IsCompleted)
        {
            time.Advance(request.Settings.PollInterval);
            await Task.WhenAny(running, Task.Delay(5, TestContext.Current.CancellationToken));
        }

        return await running;
    }

    private static Task<QmpClient> ConnectAsync(FakeQmpServer server) =>
        QmpClient.ConnectAsync(server.SocketPath, new QmpClientOptions(), TimeProvider.System, NullLogger.Instance, TestContext.Current.CancellationToken);

    /// <summary>A source that accepts set-up and migrate, then answers query-migrate with <paramref name="queryMigrate"/>.</summary>
    private static Func<FakeQmpPeer, Task> Source(Func<FakeQmpPeer, System.Text.Json.JsonElement, Task> queryMigrate, List<string> commands) => async peer =>
    {
        await peer.HandshakeAsync();
        while (await peer.ReadCommandAsync() is { } command)
        {
            var name = command.GetProperty("execute").GetString()!;
            lock (commands)
            {
                commands.Add(name);
            }

            switch (name)
            {
                case "query-migrate":
                    await queryMigrate(peer, command);
                    break;
                case "query-status":
                    await peer.ReplyAsync(command, """{"status": "running", "running": true}""");
                    break;
                default:
                    await peer.ReplyAsync(command);
                    break;
            }
        }
    };

    /// <summary>
    /// A source that records every command and answers with <paramref name="answer"/> where it gives a reply; otherwise
    /// success, and a running guest for query-status.
    /// </summary>
    private static Func<FakeQmpPeer, Task> Scripted(List<string> commands, Func<FakeQmpPeer, string, System.Text.Json.JsonElement, Task?> answer) => async peer =>
    {
        await peer.HandshakeAsync();
        while (await peer.ReadCommandAsync() is { } command)
        {
            var name = command.GetProperty("execute").GetString()!;
            lock (commands)
            {
                commands.Add(name);
            }

            await (answer(peer, name, command) ?? (name == "query-status"
                ? peer.ReplyAsync(command, """{"status": "running", "running": true}""")
                : peer.ReplyAsync(command)));
        }
    };

    [Fact]
    public async Task Garbage_from_the_source_qmp_fails_the_migration_cleanly_and_tears_the_target_down()
    {
        var commands = new List<string>();
        await using var server = new FakeQmpServer(Source((peer, _) => peer.SendLineAsync("}}garbage{{"), commands));
        await using var source = await ConnectAsync(server);
        var target = new RecordingTarget();

        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source, Destination, target, new MigrationSettings()), TestContext.Current.CancellationToken);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.Contains("garbage", result.Reason, StringComparison.Ordinal);
        Assert.Equal(1, target.TearDowns);
        Assert.Null(result.SourceRunning);
        Assert.Equal(["migrate-set-capabilities", "migrate-set-parameters", "migrate", "query-migrate"], commands);
    }

    [Fact]
    public async Task A_source_that_stops_answering_fails_the_migration_instead_of_hanging()
    {
        var commands = new List<string>();
        await using var server = new FakeQmpServer(Source((_, _) => Task.CompletedTask, commands));
        await using var source = await QmpClient.ConnectAsync(
            server.SocketPath, new QmpClientOptions { CommandTimeout = TimeSpan.FromMilliseconds(300) }, TimeProvider.System, NullLogger.Instance, TestContext.Current.CancellationToken);
        var target = new RecordingTarget();

        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source, Destination, target, new MigrationSettings()), TestContext.Current.CancellationToken);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.Contains("no answer", result.Reason, StringComparison.Ordinal);
        Assert.Equal(1, target.TearDowns);
    }

    [Fact]
    public async Task A_target_that_stops_answering_while_pages_move_fails_the_migration_at_the_target_lost_timeout()
    {
        var commands = new List<string>();
        var sent = 0L;
        await using var server = new FakeQmpServer(Source(
            (peer, command) => peer.ReplyAsync(command, commands.Contains("migrate_cancel")
                ? """{"status": "cancelled"}"""
                : $$$"""{"status": "active", "ram": {"transferred": {{{Interlocked.Add(ref sent, 4096)}}}, "remaining": 5000, "total": 6000}}"""),
            commands));
        await using var source = await ConnectAsync(server);
        var target = new RecordingTarget { Silent = true };
        var settings = new MigrationSettings { TargetCheckInterval = TimeSpan.FromSeconds(2), TargetLostTimeout = TimeSpan.FromSeconds(10), PollInterval = TimeSpan.FromSeconds(1) };

        var result = await MigrateOnFakeClockAsync(new QemuMigrationRequest(source, Destination, target, settings));

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.Contains("The target has not answered for 10 s", result.Reason, StringComparison.Ordinal);
        Assert.InRange(target.Questions, 5, 7);
        Assert.Contains("migrate_cancel", commands);
        Assert.Equal(1, target.TearDowns);
    }

    [Fact]
    public async Task A_migration_that_stops_making_progress_is_cancelled_at_the_progress_timeout()
    {
        var commands = new List<string>();
        await using var server = new FakeQmpServer(Source(
            (peer, command) => peer.ReplyAsync(command, commands.Contains("migrate_cancel")
                ? """{"status": "cancelled"}"""
                : """{"status": "active", "ram": {"transferred": 1000, "remaining": 5000, "total": 6000}}"""),
            commands));
        await using var source = await ConnectAsync(server);
        var target = new RecordingTarget();
        var settings = new MigrationSettings { ProgressTimeout = TimeSpan.FromSeconds(30), PollInterval = TimeSpan.FromSeconds(1) };

        var result = await MigrateOnFakeClockAsync(new QemuMigrationRequest(source, Destination, target, settings));

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.StartsWith("No progress for 30 s", result.Reason, StringComparison.Ordinal);
        Assert.Contains("migrate_cancel", commands);
        Assert.Equal(1, target.TearDowns);
        Assert.True(result.SourceRunning);
    }

    [Fact]
    public async Task A_migration_that_never_completes_is_cancelled_at_the_completion_timeout()
    {
        var commands = new List<string>();
        var sent = 0L;
        await using var server = new FakeQmpServer(Source(
            (peer, command) => peer.ReplyAsync(command, commands.Contains("migrate_cancel")
                ? """{"status": "cancelled"}"""
                : $$$"""{"status": "active", "ram": {"transferred": {{{Interlocked.Add(ref sent, 4096)}}}, "remaining": 5000, "total": 6000}}"""),
            commands));
        await using var source = await ConnectAsync(server);
        var target = new RecordingTarget();
        var settings = new MigrationSettings { CompletionTimeout = TimeSpan.FromSeconds(60), PollInterval = TimeSpan.FromSeconds(1) };

        var result = await MigrateOnFakeClockAsync(new QemuMigrationRequest(source, Destination, target, settings));

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.StartsWith("Not completed within 60 s", result.Reason, StringComparison.Ordinal);
        Assert.Contains("migrate_cancel", commands);
        Assert.Equal(1, target.TearDowns);
    }

    [Fact]
    public async Task Capabilities_follow_the_policy_multifd_only_for_parallel_streams_and_auto_converge_only_when_allowed()
    {
        var capabilities = new List<System.Text.Json.JsonElement>();
        var parameters = new List<System.Text.Json.JsonElement>();
        await using var server = new FakeQmpServer(async peer =>
        {
            await peer.HandshakeAsync();
            while (await peer.ReadCommandAsync() is { } command)
            {
                switch (command.GetProperty("execute").GetString())
                {
                    case "migrate-set-capabilities":
                        capabilities.Add(command.GetProperty("arguments"));
                        await peer.ReplyAsync(command);
                        break;
                    case "migrate-set-parameters":
                        parameters.Add(command.GetProperty("arguments"));
                        await peer.ReplyAsync(command);
                        break;
                    case "query-migrate":
                        await peer.ReplyAsync(command, """{"status": "failed", "error-desc": "scripted"}""");
                        break;
                    case "query-status":
                        await peer.ReplyAsync(command, """{"status": "running", "running": true}""");
                        break;
                    default:
                        await peer.ReplyAsync(command);
                        break;
                }
            }
        });
        await using var source = await ConnectAsync(server);
        var settings = new MigrationSettings { ParallelStreams = 4, AllowAutoConverge = false, DowntimeLimit = TimeSpan.FromMilliseconds(10), MaxBandwidthBytesPerSecond = 1_000_000 };

        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source, Destination, new RecordingTarget(), settings), TestContext.Current.CancellationToken);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.Contains("scripted", result.Reason, StringComparison.Ordinal);
        var states = capabilities.Single().GetProperty("capabilities").EnumerateArray()
            .ToDictionary(c => c.GetProperty("capability").GetString()!, c => c.GetProperty("state").GetBoolean());
        Assert.True(states["events"]);
        Assert.True(states["multifd"]);
        Assert.False(states["auto-converge"]);
        var p = parameters.Single();
        Assert.Equal(10, p.GetProperty("downtime-limit").GetInt64());
        Assert.Equal(1_000_000, p.GetProperty("max-bandwidth").GetInt64());
        Assert.Equal(4, p.GetProperty("multifd-channels").GetInt32());
    }

    [Fact]
    public async Task A_migrate_command_qemu_refuses_fails_without_cancelling_whatever_else_the_source_runs()
    {
        var commands = new List<string>();
        await using var server = new FakeQmpServer(Scripted(commands, (peer, name, command) =>
            name == "migrate" ? peer.ReplyErrorAsync(command, "GenericError", "There's a migration process in progress") : null));
        await using var source = await ConnectAsync(server);
        var target = new RecordingTarget();

        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source, Destination, target, new MigrationSettings()), TestContext.Current.CancellationToken);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.Contains("in progress", result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("migrate_cancel", commands);
        Assert.Equal(1, target.TearDowns);
        Assert.True(result.SourceRunning);
    }

    /// <summary>
    /// A source whose earlier migration is still cancelling for <paramref name="unsettledQueries"/> query-migrates: until then it refuses
    /// capabilities as QEMU does; afterwards this migration's query-migrate answers "failed" (scripted), which ends the run quickly.
    /// </summary>
    private static Func<FakeQmpPeer, Task> CancellingSource(int unsettledQueries, List<string> commands) => async peer =>
    {
        var queries = 0;
        var migrateSent = false;
        await peer.HandshakeAsync();
        while (await peer.ReadCommandAsync() is { } command)
        {
            var name = command.GetProperty("execute").GetString()!;
            lock (commands)
            {
                commands.Add(name);
            }

            switch (name)
            {
                case "migrate-set-capabilities" when queries <= unsettledQueries:
                    await peer.ReplyErrorAsync(command, "GenericError", "There's a migration process in progress");
                    break;
                case "query-migrate":
                    queries++;
                    await peer.ReplyAsync(command, migrateSent ? """{"status": "failed", "error-desc": "scripted"}"""
                        : queries > unsettledQueries ? """{"status": "cancelled"}""" : """{"status": "cancelling"}""");
                    break;
                case "query-status":
                    await peer.ReplyAsync(command, """{"status": "running", "running": true}""");
                    break;
                default:
                    migrateSent |= name == "migrate";
                    await peer.ReplyAsync(command);
                    break;
            }
        }
    };

    [Fact]
    public async Task A_source_still_cancelling_an_earlier_migration_is_waited_for_and_then_migrates()
    {
        var commands = new List<string>();
        await using var server = new FakeQmpServer(CancellingSource(unsettledQueries: 3, commands));
        await using var source = await ConnectAsync(server);
        var settings = new MigrationSettings { PollInterval = TimeSpan.FromMilliseconds(20) };

        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source, Destination, new RecordingTarget(), settings), TestContext.Current.CancellationToken);

        Assert.Contains("scripted", result.Reason, StringComparison.Ordinal);
        Assert.Equal(["migrate-set-capabilities", "query-migrate", "query-migrate", "query-migrate", "query-migrate", "migrate-set-capabilities", "migrate-set-parameters", "migrate"],
            commands.Take(8));
    }

    [Fact]
    public async Task A_capability_refusal_with_no_earlier_migration_running_fails_without_asking_again_or_cancelling()
    {
        var commands = new List<string>();
        await using var server = new FakeQmpServer(Scripted(commands, (peer, name, command) => name switch
        {
            "migrate-set-capabilities" => peer.ReplyErrorAsync(command, "GenericError", "Capability 'x' not supported"),
            "query-migrate" => peer.ReplyAsync(command, """{"status": "none"}"""),
            _ => null,
        }));
        await using var source = await ConnectAsync(server);
        var target = new RecordingTarget();

        var result = await NewMigration().MigrateAsync(new QemuMigrationRequest(source, Destination, target, new MigrationSettings()), TestContext.Current.CancellationToken);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.Contains("not supported", result.Reason, StringComparison.Ordinal);
        Assert.Single(commands, c => c == "migrate-set-capabilities");
        Assert.DoesNotContain("migrate", commands);
        Assert.DoesNotContain("migrate_cancel", commands);
        Assert.Equal(1, target.TearDowns);
    }

    [Fact]
    public async Task When_the_target_never_resumes_after_switchover_the_source_is_neither_resumed_nor_cleaned_up()
    {
        var commands = new List<string>();
        await using var server = new FakeQmpServer(Source(
            (peer, command) => peer.ReplyAsync(command, """{"status": "completed", "total-time": 900, "downtime": 8, "setup-time": 2, "ram": {"transferred": 6000, "remaining": 0, "total": 6000}}"""),
            commands));
        await using var source = await ConnectAsync(server);
        var target = new RecordingTarget();
        var cleanedUp = false;
        var request = new QemuMigrationRequest(source, Destination, target, new MigrationSettings { PollInterval = TimeSpan.FromSeconds(1) }, DeferredSourceCleanup: _ =>
        {
            cleanedUp = true;
            return Task.CompletedTask;
        });

        var result = await MigrateOnFakeClockAsync(request);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.Contains("target stayed 'inmigrate'", result.Reason, StringComparison.Ordinal);
        Assert.Equal(false, result.SourceRunning);
        Assert.False(cleanedUp);
        Assert.Equal(0, target.TearDowns);
        Assert.DoesNotContain("cont", commands);
        Assert.DoesNotContain("migrate_cancel", commands);
        Assert.Equal(8, result.Stats?.DowntimeMs);
    }
}
