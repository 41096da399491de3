using Ferry.Agent.ControlPlane;
using Ferry.Agent.Migration.Transports.Native;
using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.Grpc;

/// <summary>
/// Two real agent hosts on loopback, real QEMU guests, and a fake API recording what the agents
/// report. The page-counter invariant is checked after every migration.
/// </summary>
public sealed class AgentMigrationTests
{
    [Fact]
    public async Task A_page_counter_guest_migrates_between_two_agents_runs_on_the_target_and_the_api_gets_the_result()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("counter", 128);
        var launched = await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        Assert.Equal("running", launched.RunState);
        var source = a.Qemu("counter");
        await QemuHost.WaitUntilCountingAsync(source);
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, Transport = Transport.Qemu };

        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call());
        Assert.Equal(Transport.Qemu, target.Transport);
        Assert.Equal("127.0.0.1", target.Address);
        Assert.Equal("inmigrate", (await b.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "counter" }, Call())).RunState);
        var messages = await MigrateToEndAsync(a.Client, Migrate(id, "counter", target, b, policy));
        var end = messages[^1];
        Report("128 MiB page counter between agents", end);

        Assert.Equal(MigrationPhase.Completed, end.Phase);
        AssertOrdered(messages);
        Assert.Equal(MigrationPhase.Running, messages[0].Phase);
        Assert.Contains(messages, m => m.Phase == MigrationPhase.SwitchingOver);
        Assert.Contains(messages, m => m.Phase == MigrationPhase.CleaningUp);
        Assert.All(messages, m => Assert.Equal(id, m.MigrationId));
        var stats = end.Stats;
        Assert.Equal(Transport.Qemu, stats.Transport);
        Assert.Equal("qemu requested by the policy; QEMU's stream in plain TCP: this agent has no cluster certificate (Ferry:Tls)", stats.TransportReason);
        Assert.True(stats.TotalTimeMs > 0);
        Assert.True(stats.BytesTransferred > 120L * 1024 * 1024, $"only {stats.BytesTransferred} bytes sent");
        Assert.True(stats.NormalPages > 0 && stats.ZeroPages >= 0 && stats.Passes >= 1);
        Assert.True(stats.CleanupTimeMs > 0);
        Assert.True(end.GuestOnTarget);

        var onTarget = await b.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "counter" }, Call());
        Assert.Equal("running", onTarget.RunState);
        Assert.False((await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "counter" }, Call())).Exists);
        await source.Exited.WaitAsync(TestContext.Current.CancellationToken);
        Assert.False(File.Exists(source.Layout.RamFile));
        var invariant = await QemuHost.StopAndCheckInvariantAsync(b.Qemu("counter"));
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);

        await ControlPlaneCalls.WaitUntilAsync(() => api.Calls.Results.Any(r => r.MigrationId == id), TimeSpan.FromSeconds(30), "the result at the API");
        Assert.Equal(end, api.Calls.Results.Single(r => r.MigrationId == id));
        await ControlPlaneCalls.WaitUntilAsync(() => a.Services.GetRequiredService<IResultOutbox>().Pending.Count == 0, TimeSpan.FromSeconds(30), "an empty outbox");
        Assert.Contains(api.Calls.Progress, p => p.MigrationId == id && p.Phase == MigrationPhase.Running);
    }

    [Fact]
    public async Task A_broken_migrate_stream_leaves_the_migration_running_and_calling_again_reattaches_then_replays_the_end()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("replay", 64);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("replay"));
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, Transport = Transport.Qemu };
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call());
        var request = Migrate(id, "replay", target, b, policy);
        using (var cut = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken))
        {
            using var broken = a.Client.Migrate(request, deadline: Deadline(), cancellationToken: cut.Token);
            Assert.True(await broken.ResponseStream.MoveNext(cut.Token));
            Assert.Equal(MigrationPhase.Running, broken.ResponseStream.Current.Phase);
            await cut.CancelAsync();
        }

        var first = await MigrateToEndAsync(a.Client, request);
        Assert.Equal(MigrationPhase.Completed, first[^1].Phase);
        Assert.Equal(1, first[0].Sequence);
        var targetPid = b.Qemu("replay").Pid;

        var again = await MigrateToEndAsync(a.Client, Migrate(id, "replay", target, b, policy));

        Assert.Equal(first[^1], again[^1]);

        // The whole stream again, or only its end once the result reached the API: the agent evicts an ended
        // migration's samples after delivering its result (bounded memory), and the delivery races this call.
        var replayed = again.Select(m => m.Sequence).ToList();
        Assert.True(replayed.SequenceEqual(first.Select(m => m.Sequence)) || replayed.SequenceEqual([first[^1].Sequence]),
            $"replayed sequences {string.Join(", ", replayed)}; first {string.Join(", ", first.Select(m => m.Sequence))}");
        Assert.False((await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "replay" }, Call())).Exists);
        Assert.Equal(targetPid, b.Qemu("replay").Pid);

        // Over with the guest on the target: a late cancel changes nothing and says so.
        var late = await a.Client.CancelAsync(new CancelRequest { MigrationId = id }, Call());
        Assert.False(late.Cancelled);
        Assert.Equal(CancelReply.Types.Outcome.AlreadyEnded, late.Outcome);

        // The deferred cleanup already removed the source: cleaning up again changes nothing.
        await a.Client.CleanupAsync(new CleanupRequest { MigrationId = id, GuestName = "replay", Role = CleanupRequest.Types.Role.Source }, Call());

        // The migrated guest is the only copy now: tearing the "target" down is refused.
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await b.Client.CleanupAsync(
            new CleanupRequest { MigrationId = id, GuestName = "replay", Role = CleanupRequest.Types.Role.Target }, Call()));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal("running", (await b.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "replay" }, Call())).RunState);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(b.Qemu("replay"));
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);
    }

    /// <summary>Both transports, each while it copies with the guest running (native live where a tracker covers the guest).</summary>
    [Theory]
    [InlineData(Transport.Qemu)]
    [InlineData(Transport.Native)]
    public async Task Cancelling_mid_migration_keeps_the_source_running_and_tears_the_target_down(Transport transport)
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("cancel", 128);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("cancel"));
        var id = Guid.NewGuid().ToString();

        // 40 Mbit/s is 5 MB/s: the 128 MiB guest would take half a minute, plenty of time to cancel.
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, BandwidthMbps = 40, Transport = transport };
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call());
        var targetRam = b.Qemu("cancel").Layout.RamFile;
        Task<CancelReply>? cancel = null;
        string? runStateWhenCancelled = null;

        var messages = await MigrateToEndAsync(a.Client, WithEngine(Migrate(id, "cancel", target, b, policy), target), async p =>
        {
            if (cancel is null && p.Phase == MigrationPhase.Running && p.TransferredBytes > 1_000_000)
            {
                runStateWhenCancelled = (await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "cancel" }, Call())).RunState;
                cancel = a.Client.CancelAsync(new CancelRequest { MigrationId = id }, Call()).ResponseAsync;
            }
        });
        var end = messages[^1];
        Report($"cancel ({transport}, the source {runStateWhenCancelled} when cancelled)", end);

        Assert.NotNull(cancel);
        if (transport == Transport.Qemu || a.Services.GetRequiredService<IQemuGuestTracking>().ForGuest(a.Qemu("cancel")).Available)
        {
            Assert.Equal("running", runStateWhenCancelled); // cancelled in a live pass, not in a paused copy
        }

        var cancelled = await cancel;
        Assert.True(cancelled.Cancelled);
        Assert.Equal(CancelReply.Types.Outcome.Cancelled, cancelled.Outcome);
        Assert.Equal(MigrationPhase.Cancelled, end.Phase);
        Assert.False(end.GuestOnTarget);
        AssertOrdered(messages);
        Assert.DoesNotContain(messages, m => m.Phase == MigrationPhase.SwitchingOver);
        var again = await a.Client.CancelAsync(new CancelRequest { MigrationId = id }, Call());
        Assert.False(again.Cancelled);
        Assert.Equal(CancelReply.Types.Outcome.AlreadyEnded, again.Outcome);
        var unknown = await a.Client.CancelAsync(new CancelRequest { MigrationId = Guid.NewGuid().ToString() }, Call());
        Assert.False(unknown.Cancelled);
        Assert.Equal(CancelReply.Types.Outcome.Unknown, unknown.Outcome);
        Assert.Equal("running", (await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "cancel" }, Call())).RunState);
        Assert.False((await b.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "cancel" }, Call())).Exists);
        Assert.False(File.Exists(targetRam));
        var invariant = await QemuHost.StopAndCheckInvariantAsync(a.Qemu("cancel"));
        Assert.True(invariant.Holds, invariant.ToString());
        await ControlPlaneCalls.WaitUntilAsync(() => api.Calls.Results.Any(r => r.MigrationId == id && r.Phase == MigrationPhase.Cancelled), TimeSpan.FromSeconds(30), "the cancelled result at the API");
    }

    [Fact]
    public async Task Migrating_to_an_unreachable_target_fails_and_the_source_keeps_running()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = PageCounter("lonely", 64) }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("lonely"));
        var id = Guid.NewGuid().ToString();
        var closed = new PrepareIncomingReply { Address = "127.0.0.1", Port = ClosedPort(), Transport = Transport.Qemu };

        var messages = await MigrateToEndAsync(a.Client, Migrate(id, "lonely", closed, b, new MigrationPolicy { Transport = Transport.Qemu }));
        var end = messages[^1];
        Report("closed port", end);

        Assert.Equal(MigrationPhase.Failed, end.Phase);
        Assert.False(string.IsNullOrEmpty(end.FailureReason));
        Assert.False(end.GuestOnTarget);
        Assert.Equal("running", (await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "lonely" }, Call())).RunState);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(a.Qemu("lonely"));
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task A_migration_whose_result_reached_the_api_is_released_and_a_late_migrate_call_replays_only_its_end()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = PageCounter("released", 64) }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("released"));
        var source = a.Qemu("released");
        var id = Guid.NewGuid().ToString();
        var closed = new PrepareIncomingReply { Address = "127.0.0.1", Port = ClosedPort(), Transport = Transport.Qemu };
        var request = Migrate(id, "released", closed, b, new MigrationPolicy { Transport = Transport.Qemu });

        var first = await MigrateToEndAsync(a.Client, request);
        await ControlPlaneCalls.WaitUntilAsync(() => api.Calls.Results.Any(r => r.MigrationId == id), TimeSpan.FromSeconds(30), "the result at the API");
        var ledger = a.Services.GetRequiredService<Ferry.Agent.Migration.IMigrationLedger>();
        await ControlPlaneCalls.WaitUntilAsync(() => ledger.FindOutgoing(id)?.Retained == 1, TimeSpan.FromSeconds(30), "the delivered migration compacted to its end");
        var again = await MigrateToEndAsync(a.Client, request);

        Assert.True(first.Count > 1 || first[^1].Phase == MigrationPhase.Failed, "the first call read the migration");
        Assert.Equal([first[^1]], again);
        Assert.Null(ledger.FindOutgoing(id)!.Probe);
        Assert.Same(source, a.Qemu("released"));
        Assert.Equal("running", (await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "released" }, Call())).RunState);
        Assert.Single(api.Calls.Results, r => r.MigrationId == id);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(source);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Theory]
    [InlineData(Transport.Qemu)]
    [InlineData(Transport.Native)]
    public async Task Losing_the_target_agent_mid_migration_fails_the_migration_and_the_source_keeps_running(Transport transport)
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("orphan", 128);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("orphan"));
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, BandwidthMbps = 40, Transport = transport };
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call());
        Task? killing = null;

        var messages = await MigrateToEndAsync(a.Client, WithEngine(Migrate(id, "orphan", target, b, policy), target), p =>
        {
            if (killing is null && p.TransferredBytes > 1_000_000)
            {
                // The agent process ending takes its QEMUs with it, as on a real host.
                killing = b.DisposeAsync().AsTask();
            }

            return Task.CompletedTask;
        });
        var end = messages[^1];
        Report($"target agent lost ({transport})", end);

        Assert.NotNull(killing);
        await killing;
        Assert.Equal(MigrationPhase.Failed, end.Phase);
        Assert.False(end.GuestOnTarget);
        Assert.Equal("running", (await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "orphan" }, Call())).RunState);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(a.Qemu("orphan"));
        Assert.True(invariant.Holds, invariant.ToString());
    }
}
