using Ferry.Api.Tests.Support;
using Ferry.Contracts;
using Ferry.Testing;
using Ferry.Testing.Api;
using Grpc.Core;
using Grpc.Net.Client;
using System.Text.Json.Nodes;

namespace Ferry.Api.Tests.Agents;

/// <summary>The API's half of the migration flow, against agents that answer over real gRPC as each test needs.</summary>
public sealed class AgentDispatcherTests(PostgresServer postgres) : ApiTest(postgres)
{
    private readonly LoopbackAgent _source = new();
    private readonly LoopbackAgent _target = new();

    protected override bool RealDispatcher => true;

    public override async ValueTask InitializeAsync()
    {
        await _source.StartAsync();
        await _target.StartAsync();
        await base.InitializeAsync();
        var plane = new ControlPlane.ControlPlaneClient(GrpcChannel.ForAddress(Factory.Server.BaseAddress,
            new GrpcChannelOptions { HttpHandler = Factory.Server.CreateHandler() }));
        var inventory = new HostInventory { CpuModel = "qemu64", MemoryFreeMib = 16384 };
        await plane.RegisterAsync(new RegisterRequest { HostName = "host-a", MigrationAddress = "10.0.0.1", AgentEndpoint = _source.Endpoint, Inventory = inventory }, cancellationToken: Ct);
        await plane.RegisterAsync(new RegisterRequest { HostName = "host-b", MigrationAddress = "10.0.0.2", AgentEndpoint = _target.Endpoint, Inventory = inventory }, cancellationToken: Ct);
        await DefineGuest("vnf-1", "host-a");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _source.DisposeAsync();
        await _target.DisposeAsync();
    }

    private async Task<JsonObject> MigrateAndSettle()
    {
        var id = (await Json(await PostMigration(new { guest = "vnf-1", targetHost = "host-b" })))["id"]!.GetValue<string>();
        await Factory.Scheduler.RunOnceAsync(Ct);
        // The dispatcher runs on the thread pool; wait until it has nothing left to do.
        for (var i = 0; i < 200 && Factory.Scheduler.InFlight.Count > 0; i++)
        {
            await Task.Delay(25, Ct);
        }

        return await GetMigration(id);
    }

    [Fact]
    public async Task The_flow_prepares_the_target_then_migrates_from_the_source_and_records_the_result()
    {
        var m = await MigrateAndSettle();

        Assert.Equal("completed", m["state"]!.GetValue<string>());
        Assert.Equal(["prepare vnf-1"], _target.Calls);
        Assert.Equal(["migrate vnf-1 -> 10.0.0.2:4444"], _source.Calls);
        Assert.Equal(
            ["queued", "scheduled", "preparingTarget", "targetReady", "running", "switchingOver", "cleaningUp", "completed"],
            // The phases: moments within them (a pass began, the switch-over's parts) carry an event.
            m["timeline"]!.AsArray().Where(e => e!["event"] is null).Select(e => e!["state"]!.GetValue<string>()));
        Assert.Equal("10.0.0.2:4444", m["timeline"]![3]!["note"]!.GetValue<string>());
        Assert.Equal(400, m["result"]!["totalTimeMs"]!.GetValue<double>());
        Assert.Equal(9, m["result"]!["cleanupTimeMs"]!.GetValue<double>());
        Assert.Equal("host-b", (await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct)))["host"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_page_stream_token_offered_to_the_target_and_the_engine_port_it_returns_reach_the_source()
    {
        PrepareIncomingRequest? prepared = null;
        MigrateRequest? migrated = null;
        _target.Prepare = r =>
        {
            prepared = r;
            return new PrepareIncomingReply { Address = "10.0.0.2", Port = 4444, Transport = Transport.Auto, PageStreamPort = 5555, PageStreamToken = r.PageStreamToken };
        };
        _source.Migration = r =>
        {
            migrated = r;
            return LoopbackAgent.Completed(r.MigrationId);
        };

        var m = await MigrateAndSettle();

        Assert.Equal("completed", m["state"]!.GetValue<string>());
        Assert.Equal(32, prepared!.PageStreamToken.Length);
        Assert.Equal(prepared.PageStreamToken, migrated!.PageStreamToken);
        Assert.Equal(5555, migrated.PageStreamPort);
        Assert.DoesNotContain("token", m.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_target_that_cannot_prepare_fails_the_migration_and_is_told_to_clean_up()
    {
        _target.Prepare = _ => throw new RpcException(new Status(StatusCode.FailedPrecondition, "not enough hugepages"));

        var m = await MigrateAndSettle();

        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Contains("not enough hugepages", m["failureReason"]!.GetValue<string>());
        Assert.Contains("cleanup Target", _target.Calls);
        Assert.Empty(_source.Calls);
        Assert.Equal("host-a", (await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct)))["host"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_progress_stream_that_breaks_leaves_the_migration_running_for_the_agent_to_report()
    {
        _source.Migration = r => Broken(r.MigrationId);

        var m = await MigrateAndSettle();

        Assert.Equal("running", m["state"]!.GetValue<string>());
        Assert.Null(m["failureReason"]);
    }

    [Fact]
    public async Task A_failure_the_source_reports_before_switchover_keeps_the_guest_on_the_source()
    {
        _source.Migration = r =>
        [
            new MigrationProgress { MigrationId = r.MigrationId, Sequence = 1, Phase = MigrationPhase.Running },
            new MigrationProgress { MigrationId = r.MigrationId, Sequence = 2, Phase = MigrationPhase.Failed, FailureReason = "destination QEMU exited" },
        ];

        var m = await MigrateAndSettle();

        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Equal("destination QEMU exited", m["failureReason"]!.GetValue<string>());
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_failure_at_the_source_with_the_target_cut_off_tears_the_target_down_once_it_can_be_reached_again()
    {
        // The link was cut: the source gave up on the target and could not tear it down; the API keeps asking.
        _source.Migration = r =>
        [
            new MigrationProgress { MigrationId = r.MigrationId, Sequence = 1, Phase = MigrationPhase.Running },
            new MigrationProgress { MigrationId = r.MigrationId, Sequence = 2, Phase = MigrationPhase.Failed, FailureReason = "The target has not answered for 10 s" },
        ];
        var reachable = false;
        var tornDown = 0;
        _target.CleanupAnswer = _ =>
        {
            if (!Volatile.Read(ref reachable))
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "link down"));
            }

            Interlocked.Increment(ref tornDown);
            return new CleanupReply();
        };

        var m = await MigrateAndSettle();
        Assert.Equal("failed", m["state"]!.GetValue<string>());
        await WaitUntil(() => Task.FromResult(_target.Calls.Contains("cleanup Target")), "the first teardown");

        Volatile.Write(ref reachable, true);
        await WaitUntil(() =>
        {
            Factory.Clock.Advance(TimeSpan.FromSeconds(5));
            return Task.FromResult(Volatile.Read(ref tornDown) >= 1);
        }, "the teardown asked again");

        // Done once it went through: nobody asks again.
        Factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await Task.Delay(200, Ct);
        Assert.Equal(1, Volatile.Read(ref tornDown));
        Assert.Equal("failed", (await GetMigration(m["id"]!.GetValue<string>()))["state"]!.GetValue<string>());
        Assert.DoesNotContain(_source.Calls, c => c.StartsWith("cleanup", StringComparison.Ordinal));
    }

    /// <summary>A migration running at the source that streams nothing yet, as a QEMU migration still in setup does.</summary>
    private async Task<string> StartSilentMigration()
    {
        _source.Migration = _ => [];
        _source.HoldStreamOpen = true;
        var id = (await Json(await PostMigration(new { guest = "vnf-1", targetHost = "host-b" })))["id"]!.GetValue<string>();
        await Factory.Scheduler.RunOnceAsync(Ct);
        await WaitUntil(async () => (await GetMigration(id))["state"]!.GetValue<string>() == "running", "the migration to run");
        return id;
    }

    private async Task<JsonObject> CancelAndSettle(string id)
    {
        var response = await Client.PostAsync($"/api/v1/migrations/{id}/cancel", null, Ct);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        await Factory.Scheduler.RunOnceAsync(Ct);
        await Settle();
        return await GetMigration(id);
    }

    private async Task Settle()
    {
        for (var i = 0; i < 200 && Factory.Scheduler.InFlight.Count > 0; i++)
        {
            await Task.Delay(25, Ct);
        }
    }

    private static async Task WaitUntil(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 400; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(25, Ct);
        }

        Assert.Fail($"timed out waiting for {what}");
    }

    private async Task<string> GuestHost() => (await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct)))["host"]!.GetValue<string>();

    [Fact]
    public async Task A_cancel_the_source_carried_out_tears_the_target_down_and_leaves_the_guest_on_the_source()
    {
        var id = await StartSilentMigration();

        var m = await CancelAndSettle(id);

        Assert.Equal("cancelled", m["state"]!.GetValue<string>());
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
        Assert.Contains("cancel", _source.Calls);
        Assert.Contains("cleanup Target", _target.Calls);
        Assert.Equal("host-a", await GuestHost());
    }

    [Fact]
    public async Task A_cancel_the_source_answers_too_late_never_tears_the_target_down_and_the_migration_goes_on_past_the_pause()
    {
        var id = await StartSilentMigration();
        _source.CancelAnswer = _ => new CancelReply { Cancelled = false, Outcome = CancelReply.Types.Outcome.TooLate };

        var m = await CancelAndSettle(id);

        Assert.Equal("switchingOver", m["state"]!.GetValue<string>());
        Assert.True(m["guestOnTarget"]!.GetValue<bool>());
        Assert.DoesNotContain("cleanup Target", _target.Calls);

        // The source then reports its end, which the migration takes as it would have without the cancel.
        _source.HoldStreamOpen = false;
        _source.Migration = r => LoopbackAgent.Completed(r.MigrationId);
        await WaitUntil(async () =>
        {
            await Factory.Scheduler.RunOnceAsync(Ct);
            Factory.Clock.Advance(TimeSpan.FromSeconds(1));
            await Settle();
            return (await GetMigration(id))["state"]!.GetValue<string>() == "completed";
        }, "the source's end to be applied");
        Assert.DoesNotContain("cleanup Target", _target.Calls);
        Assert.Equal("host-b", await GuestHost());
    }

    [Fact]
    public async Task A_cancel_the_source_knows_nothing_of_asks_the_target_and_a_guest_running_there_is_the_targets()
    {
        var id = await StartSilentMigration();
        _source.CancelAnswer = _ => new CancelReply { Cancelled = false, Outcome = CancelReply.Types.Outcome.Unknown };
        _target.GuestStatus = name => LoopbackAgent.Status(name, "running");

        var m = await CancelAndSettle(id);

        Assert.Equal("completed", m["state"]!.GetValue<string>());
        Assert.True(m["guestOnTarget"]!.GetValue<bool>());
        Assert.Null(m["result"]);
        Assert.Contains("runs there", m["timeline"]!.AsArray()[^1]!["note"]!.GetValue<string>());
        Assert.DoesNotContain("cleanup Target", _target.Calls);
        Assert.Equal("host-b", await GuestHost());
    }

    [Fact]
    public async Task A_cancel_before_the_pause_that_neither_agent_can_place_is_cancelled_and_the_guest_stays_the_sources()
    {
        // make run's restart ended every QEMU of the killed run: the source forgot the migration, neither host runs the guest.
        var id = await StartSilentMigration();
        _source.CancelAnswer = _ => new CancelReply { Cancelled = false, Outcome = CancelReply.Types.Outcome.Unknown };

        var m = await CancelAndSettle(id);

        Assert.Equal("cancelled", m["state"]!.GetValue<string>());
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
        Assert.Contains("status vnf-1", _target.Calls);
        Assert.Contains("cleanup Target", _target.Calls);
        Assert.Equal("host-a", await GuestHost());
    }

    [Fact]
    public async Task A_cancel_refused_by_an_agent_without_outcomes_and_a_target_that_says_the_guest_runs_there_leaves_the_guest_on_the_target()
    {
        var id = await StartSilentMigration();
        _source.CancelAnswer = _ => new CancelReply { Cancelled = false };
        _target.CleanupAnswer = _ => throw new RpcException(new Status(StatusCode.FailedPrecondition, "Guest 'vnf-1' runs here: not tearing it down."));
        var targetRuns = false;
        _target.GuestStatus = name => targetRuns ? LoopbackAgent.Status(name, "running") : new GuestStatusReply { Name = name };
        _source.GuestStatus = name => new GuestStatusReply { Name = name };

        // Neither agent runs it at first: the migration stays cancelling and is asked again only after a backoff.
        var m = await CancelAndSettle(id);
        Assert.Equal("cancelling", m["state"]!.GetValue<string>());
        var cancels = _source.Calls.Count(c => c == "cancel");
        await Factory.Scheduler.RunOnceAsync(Ct);
        Assert.Equal(cancels, _source.Calls.Count(c => c == "cancel"));

        targetRuns = true;
        Factory.Clock.Advance(TimeSpan.FromSeconds(2));
        await Factory.Scheduler.RunOnceAsync(Ct);
        m = await GetMigration(id);

        Assert.Equal(cancels + 1, _source.Calls.Count(c => c == "cancel"));
        Assert.Equal("completed", m["state"]!.GetValue<string>());
        Assert.True(m["guestOnTarget"]!.GetValue<bool>());
        Assert.Equal("host-b", await GuestHost());
    }

    [Fact]
    public async Task A_cancel_of_a_migration_that_had_already_ended_at_the_source_records_the_sources_end()
    {
        var id = await StartSilentMigration();
        _source.CancelAnswer = _ => new CancelReply { Cancelled = false, Outcome = CancelReply.Types.Outcome.AlreadyEnded };
        _source.HoldStreamOpen = false;
        _source.Migration = r =>
        [
            new MigrationProgress { MigrationId = r.MigrationId, Sequence = 1, Phase = MigrationPhase.Failed, FailureReason = "destination QEMU exited" },
        ];

        var m = await CancelAndSettle(id);

        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Equal("destination QEMU exited", m["failureReason"]!.GetValue<string>());
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
        // The end may reach the API through the run's own stream before the cancel re-attaches; the run then tears
        // the target down in the background (SettleAsync), so the teardown is awaited, not looked for at once.
        await WaitUntil(() => Task.FromResult(_target.Calls.Contains("cleanup Target")), "the target's teardown");
        Assert.Equal("host-a", await GuestHost());
    }

    [Fact]
    public async Task A_migration_whose_source_streams_nothing_fails_at_its_progress_timeout_and_the_target_is_torn_down()
    {
        var id = await StartSilentMigration();

        Factory.Clock.Advance(TimeSpan.FromSeconds(16));
        await Factory.Scheduler.RunOnceAsync(Ct);
        await Settle();
        var m = await GetMigration(id);

        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Contains("progress timeout", m["failureReason"]!.GetValue<string>());
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
        Assert.Contains("cleanup Target", _target.Calls);
        Assert.Equal("host-a", await GuestHost());
    }

    [Fact]
    public async Task A_source_that_refuses_to_migrate_fails_the_migration_with_its_reason_at_once_and_is_not_asked_again()
    {
        _source.Migration = _ => throw new RpcException(new Status(StatusCode.FailedPrecondition, "Guest 'vnf-1' is 'paused', not running"));

        var m = await MigrateAndSettle();
        for (var i = 0; i < 3; i++)
        {
            await Factory.Scheduler.RunOnceAsync(Ct);
            await Settle();
        }

        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Contains("refused to migrate: Guest 'vnf-1' is 'paused', not running", m["failureReason"]!.GetValue<string>());
        Assert.Single(_source.Calls, c => c.StartsWith("migrate", StringComparison.Ordinal));
        Assert.Contains("cleanup Target", _target.Calls);
        Assert.Equal("host-a", await GuestHost());
    }

    [Fact]
    public async Task A_source_whose_stream_keeps_breaking_is_asked_again_only_after_a_backoff()
    {
        _source.Migration = r => Broken(r.MigrationId);
        var m = await MigrateAndSettle();
        var calls = _source.Calls.Count;

        for (var i = 0; i < 5; i++)
        {
            await Factory.Scheduler.RunOnceAsync(Ct);
            await Settle();
        }

        Assert.Equal("running", m["state"]!.GetValue<string>());
        Assert.Equal(calls, _source.Calls.Count);
        Factory.Clock.Advance(TimeSpan.FromSeconds(1));
        await Factory.Scheduler.RunOnceAsync(Ct);
        await Settle();
        Assert.Equal(calls + 1, _source.Calls.Count);
    }

    [Fact]
    public async Task A_failure_reason_longer_than_the_store_holds_is_stored_truncated_and_the_migration_ends()
    {
        var qemuSaid = "qemu-system-x86_64: " + new string('x', 20_000);
        _source.Migration = r =>
        [
            new MigrationProgress { MigrationId = r.MigrationId, Sequence = 1, Phase = MigrationPhase.Failed, FailureReason = qemuSaid },
        ];

        var m = await MigrateAndSettle();

        Assert.Equal("failed", m["state"]!.GetValue<string>());
        var reason = m["failureReason"]!.GetValue<string>();
        Assert.StartsWith("qemu-system-x86_64: xxx", reason, StringComparison.Ordinal);
        Assert.EndsWith($"[truncated: {qemuSaid.Length} characters in all]", reason, StringComparison.Ordinal);
        Assert.Equal("host-a", await GuestHost());
    }

    /// <summary>The source pauses the guest and its stream breaks; asked again, its agent no longer knows the migration (it restarted).</summary>
    private void SourceForgetsPastThePause()
    {
        var calls = 0;
        _source.Migration = r => Interlocked.Increment(ref calls) == 1
            ? PausedThenBroken(r.MigrationId)
            : throw new RpcException(new Status(StatusCode.NotFound, $"No migration {r.MigrationId} on this host."));
    }

    private async Task PassAfter(TimeSpan wait)
    {
        Factory.Clock.Advance(wait);
        await Factory.Scheduler.RunOnceAsync(Ct);
        await Settle();
    }

    [Fact]
    public async Task Past_the_pause_a_lost_source_result_is_reconciled_from_the_target_that_runs_the_guest()
    {
        SourceForgetsPastThePause();
        _target.GuestStatus = name => LoopbackAgent.Status(name, "running");

        var m = await MigrateAndSettle();
        Assert.Equal("switchingOver", m["state"]!.GetValue<string>());
        await PassAfter(TimeSpan.FromSeconds(1));
        m = await GetMigration(m["id"]!.GetValue<string>());

        Assert.Equal("completed", m["state"]!.GetValue<string>());
        Assert.True(m["guestOnTarget"]!.GetValue<bool>());
        Assert.Null(m["result"]);
        Assert.Contains("no longer knows the migration", m["timeline"]!.AsArray()[^1]!["note"]!.GetValue<string>());
        Assert.Contains("status vnf-1", _target.Calls);
        Assert.DoesNotContain("cleanup Target", _target.Calls);
        Assert.Equal("host-b", await GuestHost());
    }

    [Fact]
    public async Task Past_the_pause_agents_that_cannot_say_where_the_guest_runs_are_asked_again_with_backoff_until_the_reconcile_deadline()
    {
        SourceForgetsPastThePause();
        var m = await MigrateAndSettle();
        var id = m["id"]!.GetValue<string>();
        await PassAfter(TimeSpan.FromSeconds(1));
        var asked = _target.Calls.Count(c => c.StartsWith("status", StringComparison.Ordinal));
        Assert.Equal(1, asked);
        Assert.Equal("switchingOver", (await GetMigration(id))["state"]!.GetValue<string>());

        // At the same instant nobody is asked again; a while later they are, each time after a longer wait.
        await PassAfter(TimeSpan.Zero);
        Assert.Equal(asked, _target.Calls.Count(c => c.StartsWith("status", StringComparison.Ordinal)));
        await PassAfter(TimeSpan.FromSeconds(2));
        Assert.Equal(asked + 1, _target.Calls.Count(c => c.StartsWith("status", StringComparison.Ordinal)));
        await PassAfter(TimeSpan.FromSeconds(2));
        Assert.Equal(asked + 1, _target.Calls.Count(c => c.StartsWith("status", StringComparison.Ordinal)));

        await PassAfter(TimeSpan.FromMinutes(6));
        m = await GetMigration(id);

        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Contains("says the guest runs there", m["failureReason"]!.GetValue<string>());
        Assert.True(m["guestOnTarget"]!.GetValue<bool>());
        Assert.DoesNotContain("cleanup Target", _target.Calls);
    }

    private static IEnumerable<MigrationProgress> PausedThenBroken(string id)
    {
        yield return new MigrationProgress { MigrationId = id, Sequence = 1, Phase = MigrationPhase.Running };
        yield return new MigrationProgress { MigrationId = id, Sequence = 2, Phase = MigrationPhase.SwitchingOver };
        throw new RpcException(new Status(StatusCode.Unavailable, "agent went away"));
    }

    private static IEnumerable<MigrationProgress> Broken(string id)
    {
        yield return new MigrationProgress { MigrationId = id, Sequence = 1, Phase = MigrationPhase.Running };
        throw new RpcException(new Status(StatusCode.Unavailable, "agent went away"));
    }
}
