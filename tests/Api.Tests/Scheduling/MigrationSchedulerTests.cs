using System.Net;
using Ferry.Api.Persistence;
using Ferry.Api.Tests.Support;
using Ferry.Testing;
using Ferry.Domain.Migrations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ferry.Api.Tests.Scheduling;

public sealed class MigrationSchedulerTests(PostgresServer postgres) : ApiTest(postgres)
{
    private async Task<string> Request(string guest, string? target = null, object? policy = null)
    {
        var response = await PostMigration(new { guest, targetHost = target, policy });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        // Requests a moment apart, as they are in life: the queue is first come, first served.
        Factory.Clock.Advance(TimeSpan.FromMilliseconds(1));
        return (await Json(response))["id"]!.GetValue<string>();
    }

    private async Task<string> State(string id) => (await GetMigration(id))["state"]!.GetValue<string>();

    private async Task Move(string id, params MigrationState[] states)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        var m = await db.Migrations.SingleAsync(x => x.Id == Guid.Parse(id), Ct);
        foreach (var s in states)
        {
            m.Advance(s, Factory.Clock.GetUtcNow());
        }

        await db.SaveChangesAsync(Ct);
    }

    [Fact]
    public async Task A_queued_migration_is_scheduled_to_its_named_target_and_handed_to_the_dispatcher()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        var id = await Request("vnf-1", "host-b");

        await Factory.Scheduler.RunOnceAsync(Ct);

        Assert.Equal("scheduled", await State(id));
        Assert.Equal([Guid.Parse(id)], await Factory.Dispatcher.RunsStarted(1));
    }

    [Fact]
    public async Task Without_a_named_target_the_least_busy_compatible_host_is_chosen()
    {
        await CreateHost("host-a");
        await CreateHost("host-b", new { cpuModel = "EPYC", cpuFlags = new[] { "sse2" }, kvm = true, memoryFreeMiB = 16384 });
        await CreateHost("host-c");
        await CreateHost("host-d");
        await Client.PostAsync("/api/v1/hosts/host-c/drain", null, Ct);
        await DefineGuest("vnf-1", "host-a");
        var id = await Request("vnf-1");

        await Factory.Scheduler.RunOnceAsync(Ct);

        var m = await GetMigration(id);
        Assert.Equal("scheduled", m["state"]!.GetValue<string>());
        Assert.Equal("host-d", m["targetHost"]!.GetValue<string>());
    }

    [Fact]
    public async Task When_no_host_fits_the_migration_fails_with_each_reason()
    {
        await CreateHost("host-a");
        await CreateHost("host-b", new { cpuModel = "qemu64", cpuFlags = new[] { "sse2" }, kvm = true, memoryFreeMiB = 512 });
        await DefineGuest("vnf-1", "host-a");
        var id = await Request("vnf-1");

        await Factory.Scheduler.RunOnceAsync(Ct);

        var m = await GetMigration(id);
        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Equal("no target host fits: host-b: has 512 MiB free memory, the guest needs 1024 MiB", m["failureReason"]!.GetValue<string>());
        Assert.Empty(Factory.Scheduler.InFlight);
    }

    [Fact]
    public async Task A_named_target_that_went_down_fails_the_migration()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        var id = await Request("vnf-1", "host-b");
        await Client.PostAsync("/api/v1/hosts/host-b/drain", null, Ct);

        await Factory.Scheduler.RunOnceAsync(Ct);

        Assert.Contains("host-b: is draining", (await GetMigration(id))["failureReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task One_outbound_migration_per_source_host_runs_at_a_time()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await CreateHost("host-c");
        await DefineGuest("vnf-1", "host-a");
        await DefineGuest("vnf-2", "host-a");
        var first = await Request("vnf-1", "host-b");
        var second = await Request("vnf-2", "host-c");

        await Factory.Scheduler.RunOnceAsync(Ct);

        Assert.Equal("scheduled", await State(first));
        Assert.Equal("queued", await State(second));

        await Move(first, MigrationState.PreparingTarget, MigrationState.TargetReady, MigrationState.Running);
        var cancel = await Client.PostAsync($"/api/v1/migrations/{first}/cancel", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        await Factory.Scheduler.RunOnceAsync(Ct);
        Assert.Equal("cancelled", await State(first));
        await Factory.Scheduler.RunOnceAsync(Ct);

        Assert.Equal("scheduled", await State(second));
    }

    [Fact]
    public async Task One_inbound_migration_per_target_host_runs_at_a_time()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await CreateHost("host-c");
        await DefineGuest("vnf-1", "host-a");
        await DefineGuest("vnf-2", "host-c");
        var first = await Request("vnf-1", "host-b");
        var second = await Request("vnf-2", "host-b");

        await Factory.Scheduler.RunOnceAsync(Ct);

        Assert.Equal(["scheduled", "queued"], [await State(first), await State(second)]);
    }

    [Fact]
    public async Task Cancelling_a_running_migration_aborts_it_at_the_dispatcher_and_leaves_the_guest_on_the_source()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        var id = await Request("vnf-1", "host-b");
        await Factory.Scheduler.RunOnceAsync(Ct);
        await Move(id, MigrationState.PreparingTarget, MigrationState.TargetReady, MigrationState.Running);

        var cancel = await Json(await Client.PostAsync($"/api/v1/migrations/{id}/cancel", null, Ct));
        Assert.Equal("cancelling", cancel["state"]!.GetValue<string>());
        await Factory.Scheduler.RunOnceAsync(Ct);

        Assert.Equal("cancelled", await State(id));
        Assert.Contains(Guid.Parse(id), Factory.Dispatcher.Aborts);
        var guest = await Json(await Client.GetAsync("/api/v1/guests/vnf-1", Ct));
        Assert.Equal("host-a", guest["host"]!.GetValue<string>());
        Assert.Equal("defined", guest["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cancelling_after_switchover_is_refused_with_409()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        var id = await Request("vnf-1", "host-b");
        await Factory.Scheduler.RunOnceAsync(Ct);
        await Move(id, MigrationState.PreparingTarget, MigrationState.TargetReady, MigrationState.Running, MigrationState.SwitchingOver);

        await Problem(await Client.PostAsync($"/api/v1/migrations/{id}/cancel", null, Ct), HttpStatusCode.Conflict);
        Assert.Equal("switchingOver", await State(id));
    }

    [Fact]
    public async Task A_migration_without_progress_fails_at_its_progress_timeout_and_is_aborted()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        var id = await Request("vnf-1", "host-b", new { progressTimeoutSeconds = 5 });
        await Factory.Scheduler.RunOnceAsync(Ct);
        await Move(id, MigrationState.PreparingTarget);

        Factory.Clock.Advance(TimeSpan.FromSeconds(4));
        await Factory.Scheduler.RunOnceAsync(Ct);
        Assert.Equal("preparingTarget", await State(id));

        Factory.Clock.Advance(TimeSpan.FromSeconds(2));
        await Factory.Scheduler.RunOnceAsync(Ct);

        var m = await GetMigration(id);
        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Contains("progress timeout", m["failureReason"]!.GetValue<string>());
        Assert.False(m["guestOnTarget"]!.GetValue<bool>());
        Assert.Contains(Guid.Parse(id), Factory.Dispatcher.Aborts);
    }

    [Fact]
    public async Task A_migration_past_its_completion_timeout_fails_even_while_progressing()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        var id = await Request("vnf-1", "host-b", new { completionTimeoutSecondsPerGiB = 10, progressTimeoutSeconds = 3600 });
        await Factory.Scheduler.RunOnceAsync(Ct);
        await Move(id, MigrationState.PreparingTarget, MigrationState.TargetReady, MigrationState.Running);

        Factory.Clock.Advance(TimeSpan.FromSeconds(11));
        await Factory.Scheduler.RunOnceAsync(Ct);

        Assert.Contains("completion timeout", (await GetMigration(id))["failureReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task No_timeout_fails_a_migration_after_switchover()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        var id = await Request("vnf-1", "host-b", new { progressTimeoutSeconds = 1 });
        await Factory.Scheduler.RunOnceAsync(Ct);
        await Move(id, MigrationState.PreparingTarget, MigrationState.TargetReady, MigrationState.Running, MigrationState.SwitchingOver);

        Factory.Clock.Advance(TimeSpan.FromMinutes(5));
        await Factory.Scheduler.RunOnceAsync(Ct);

        Assert.Equal("switchingOver", await State(id));
    }

    [Fact]
    public async Task A_migration_that_never_gets_capacity_fails_at_the_queue_timeout()
    {
        await CreateHost("host-a");
        await CreateHost("host-b");
        await DefineGuest("vnf-1", "host-a");
        await DefineGuest("vnf-2", "host-a");
        await Request("vnf-1", "host-b");
        var waiting = await Request("vnf-2", "host-b");
        await Factory.Scheduler.RunOnceAsync(Ct);

        Factory.Clock.Advance(TimeSpan.FromMinutes(11));
        await Factory.Scheduler.RunOnceAsync(Ct);

        var m = await GetMigration(waiting);
        Assert.Equal("failed", m["state"]!.GetValue<string>());
        Assert.Contains("not scheduled within", m["failureReason"]!.GetValue<string>());
    }
}
