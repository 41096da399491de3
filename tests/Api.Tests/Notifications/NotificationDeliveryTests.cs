using System.Net;
using System.Net.Http.Json;
using Ferry.Api.Tests.Support;
using Ferry.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ferry.Api.Tests.Notifications;

public sealed class NotificationDeliveryTests(PostgresServer postgres) : NotificationTestBase(postgres)
{
    [Fact]
    public async Task A_migration_notifies_start_starting_start_processing_and_its_result_in_order_with_every_field()
    {
        var subscription = await Subscribed(new { callbackUri = Receiver.Url() });
        var migration = await Migrate();
        await Settle(Factory);
        await Receiver.WaitFor(r => r.Delivered().Count >= 3, "three notifications");

        var delivered = Receiver.Delivered();
        Assert.Equal(CompletedFlow, Statuses(delivered));
        Assert.Equal(3, delivered.Select(n => n["id"]!.GetValue<string>()).Distinct().Count());
        Assert.All(Receiver.Requests.Where(r => r.Method == "POST"), r => Assert.Equal(("1.0.0", "application/json"), (r.Version, r.ContentType)));
        foreach (var n in delivered)
        {
            Assert.Equal("MigrationOccurrenceNotification", n["notificationType"]!.GetValue<string>());
            Assert.Equal(subscription, n["subscriptionId"]!.GetValue<string>());
            Assert.Equal(migration, n["migrationId"]!.GetValue<string>());
            Assert.Equal(("vnf-1", "vnf-inst-1", "vnfc-1"), (n["guest"]!.GetValue<string>(), n["vnfInstanceId"]!.GetValue<string>(), n["vnfcInstanceId"]!.GetValue<string>()));
            Assert.Equal(("host-a", "host-b"), (n["sourceHost"]!.GetValue<string>(), n["targetHost"]!.GetValue<string>()));
            Assert.Equal($"/api/v1/subscriptions/{subscription}", n["_links"]!["subscription"]!["href"]!.GetValue<string>());
            Assert.Equal($"/api/v1/migrations/{migration}", n["_links"]!["migration"]!["href"]!.GetValue<string>());
            Assert.NotNull(n["timeStamp"]);
            Assert.Null(n["error"]);
        }

        Assert.Null(delivered[0]["result"]);
        Assert.Equal(400, delivered[2]["result"]!["totalTimeMs"]!.GetValue<double>());
        await Receiver.WaitFor(_ => Subscription(subscription).Result["delivery"]!["pending"]!.GetValue<int>() == 0, "the subscription's pending count at 0");
        Assert.Null((await Subscription(subscription))["delivery"]!["failedSince"]);
    }

    [Fact]
    public async Task A_failed_migration_ends_with_a_FAILED_result_carrying_problem_details_and_filters_apply()
    {
        await Subscribed(new { callbackUri = Receiver.Url("/all") });
        await Subscribed(new { callbackUri = Receiver.Url("/failures"), filter = new { operationStates = new[] { "FAILED" } } });
        await Subscribed(new { callbackUri = Receiver.Url("/other-vnf"), filter = new { vnfInstanceIds = new[] { "vnf-inst-2" } } });
        Target.Prepare = _ => throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.FailedPrecondition, "no hugepages left"));
        await Migrate();
        await Settle(Factory);
        await Receiver.WaitFor(r => r.Delivered("/failures").Count >= 1 && r.Delivered("/all").Any(n => n["notificationStatus"]!.GetValue<string>() == "RESULT"), "the failure");

        var failure = Assert.Single(Receiver.Delivered("/failures"));
        Assert.Equal(("RESULT", "FAILED"), (failure["notificationStatus"]!.GetValue<string>(), failure["operationState"]!.GetValue<string>()));
        Assert.Equal(500, failure["error"]!["status"]!.GetValue<int>());
        Assert.Contains("source", failure["error"]!["detail"]!.GetValue<string>());
        Assert.Equal([("START", "STARTING"), ("RESULT", "FAILED")], Statuses(Receiver.Delivered("/all")));
        Assert.Empty(Receiver.Delivered("/other-vnf"));
    }

    [Fact]
    public async Task A_notification_written_before_the_API_stopped_arrives_once_from_its_restart()
    {
        // The instance that commits the state changes (and the outbox rows) never delivers: it is stopped before it could.
        var subscription = await Subscribed(new { callbackUri = Receiver.Url() });
        MutableSettings["Ferry:Notifications:DeliveryEnabled"] = "false";
        var writer = NewInstance();
        await Factory.DisposeAsync();
        await Migrate(writer);
        await Settle(writer);
        Assert.Equal(3, await Outbox(writer));
        await writer.DisposeAsync();
        Assert.Empty(Receiver.Delivered());

        MutableSettings.Remove("Ferry:Notifications:DeliveryEnabled");
        var restarted = NewInstance();
        await Receiver.WaitFor(_ => Outbox(restarted).Result == 0, "the notifications delivered after the restart");
        // Nothing more is sent once they were delivered: polls on the restarted instance's clock find nothing due.
        for (var i = 0; i < 5; i++)
        {
            restarted.Clock.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(50, Ct);
        }

        var delivered = Receiver.Delivered();
        Assert.Equal(CompletedFlow, Statuses(delivered));
        Assert.Equal(3, delivered.Select(n => n["id"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(3, Receiver.Requests.Count(r => r.Method == "POST"));
        Assert.All(delivered, n => Assert.Equal(subscription, n["subscriptionId"]!.GetValue<string>()));
    }

    private static async Task<int> Outbox(FerryApiFactory on)
    {
        await using var scope = on.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Ferry.Api.Persistence.FerryDbContext>().OutboxNotifications.CountAsync(Ct);
    }

    [Fact]
    public async Task A_receiver_that_refuses_then_fails_then_hangs_gets_everything_in_order_once_it_recovers()
    {
        var subscription = await Subscribed(new { callbackUri = Receiver.Url() });
        await Receiver.StopAsync();
        await Migrate();
        await Settle(Factory);
        // The migration ended although its subscriber is unreachable.
        Assert.Equal("completed", (await Json(await Client.GetAsync("/api/v1/migrations?pageSize=1", Ct)))["items"]![0]!["state"]!.GetValue<string>());

        await Receiver.WaitFor(_ => Subscription(subscription).Result["delivery"]!["lastError"] is not null, "a refused attempt recorded",
            () => { Factory.Clock.Advance(TimeSpan.FromSeconds(1)); return Task.CompletedTask; });
        var health = (await Subscription(subscription))["delivery"]!;
        Assert.Equal(3, health["pending"]!.GetValue<int>());
        Assert.NotNull(health["failedSince"]);

        // Back, but failing.
        Receiver.Answer = _ => Task.FromResult(StatusCodes.Status500InternalServerError);
        await Receiver.StartAsync();
        await Receiver.WaitFor(r => r.Requests.Any(q => q.Answer == 500), "an attempt answered 500",
            () => { Factory.Clock.Advance(TimeSpan.FromSeconds(1)); return Task.CompletedTask; });

        // Hanging beyond the attempt timeout (a minute on the API's clock, NotificationTestBase).
        var hang = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Receiver.Answer = _ =>
        {
            arrived.TrySetResult();
            return hang.Task;
        };
        while (!arrived.Task.IsCompleted)
        {
            Factory.Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(arrived.Task, Task.Delay(20, Ct));
        }

        await Receiver.WaitFor(_ => Subscription(subscription).Result["delivery"]!["lastError"]?.GetValue<string>().Contains("no answer within") == true,
            "a timed-out attempt recorded", () => { Factory.Clock.Advance(TimeSpan.FromSeconds(1)); return Task.CompletedTask; });
        hang.TrySetResult(StatusCodes.Status503ServiceUnavailable);

        // Recovered.
        Receiver.Answer = _ => Task.FromResult(StatusCodes.Status204NoContent);
        await Receiver.WaitFor(r => r.Delivered().Count >= 3, "the notifications after recovery",
            () => { Factory.Clock.Advance(TimeSpan.FromSeconds(1)); return Task.CompletedTask; });
        var delivered = Receiver.Delivered();
        Assert.Equal(CompletedFlow, Statuses(delivered));
        Assert.Equal(3, delivered.Select(n => n["id"]!.GetValue<string>()).Distinct().Count());
        // Every retry of a notification carried the same id: no more distinct ids were ever sent than notifications.
        Assert.Equal(3, Receiver.Requests.Where(r => r.Method == "POST" && r.Body.Length > 0).Select(r => r.Json["id"]!.GetValue<string>()).Distinct().Count());
        // The receiver saw the last one before the API recorded its answer.
        await Receiver.WaitFor(_ => Subscription(subscription).Result["delivery"]!["pending"]!.GetValue<int>() == 0, "the subscription's pending count at 0");
        health = (await Subscription(subscription))["delivery"]!;
        Assert.Null(health["lastError"]);
        Assert.Null(health["failedSince"]);
    }

    [Fact]
    public async Task A_notification_retried_beyond_the_maximum_age_is_dead_lettered_and_redelivered_on_request()
    {
        var subscription = await Subscribed(new { callbackUri = Receiver.Url(), filter = new { operationStates = new[] { "COMPLETED" } } });
        Receiver.Answer = _ => Task.FromResult(StatusCodes.Status500InternalServerError);
        await Migrate();
        await Settle(Factory);
        await Receiver.WaitFor(_ => Subscription(subscription).Result["delivery"]!["deadLettered"]!.GetValue<int>() == 1, "a dead-lettered notification",
            () => { Factory.Clock.Advance(TimeSpan.FromHours(1)); return Task.CompletedTask; });
        Assert.Equal(0, (await Subscription(subscription))["delivery"]!["pending"]!.GetValue<int>());

        Receiver.Answer = _ => Task.FromResult(StatusCodes.Status200OK);
        var redelivered = await Client.PostAsync($"/api/v1/subscriptions/{subscription}/redeliver", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, redelivered.StatusCode);
        Assert.Equal(1, (await Json(redelivered))["redelivered"]!.GetValue<int>());
        await Receiver.WaitFor(r => r.Delivered().Count == 1, "the redelivered notification",
            () => { Factory.Clock.Advance(TimeSpan.FromSeconds(1)); return Task.CompletedTask; });
        Assert.Equal(("RESULT", "COMPLETED"), Statuses(Receiver.Delivered()).Single());
        Assert.Equal(0, (await Subscription(subscription))["delivery"]!["deadLettered"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_hundred_subscribers_one_of_them_dead_all_live_ones_get_everything_and_the_migration_ends()
    {
        await using var doomed = new NotificationReceiver();
        await doomed.StartAsync();
        var dead = await Subscribed(new { callbackUri = doomed.Url("/dead") });
        await doomed.StopAsync();
        for (var i = 0; i < 99; i++)
        {
            await Subscribed(new { callbackUri = Receiver.Url($"/s/{i}") });
        }

        await Migrate();
        await Settle(Factory);
        Assert.Equal("completed", (await Json(await Client.GetAsync("/api/v1/migrations?pageSize=1", Ct)))["items"]![0]!["state"]!.GetValue<string>());
        await Receiver.WaitFor(r => r.Delivered().Count >= 99 * 3, "three notifications for each live subscriber");
        for (var i = 0; i < 99; i++)
        {
            Assert.Equal(CompletedFlow, Statuses(Receiver.Delivered($"/s/{i}")));
        }

        Assert.True((await Subscription(dead))["delivery"]!["pending"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task A_failing_subscriber_is_sent_one_notification_at_a_time_and_gets_everything_in_order_once_it_answers()
    {
        await Subscribed(new { callbackUri = Receiver.Url("/healthy") });
        var failing = await Subscribed(new { callbackUri = Receiver.Url("/failing") });
        var concurrent = 0;
        var most = 0;
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var hanging = false;
        Receiver.Answer = async r =>
        {
            if (r.Method != "POST" || r.Path != "/failing")
            {
                return StatusCodes.Status204NoContent;
            }

            if (!Volatile.Read(ref hanging))
            {
                return StatusCodes.Status500InternalServerError;
            }

            var now = Interlocked.Increment(ref concurrent);
            InterlockedMax(ref most, now);
            try
            {
                return await release.Task;
            }
            finally
            {
                Interlocked.Decrement(ref concurrent);
            }
        };

        // The first attempt to /failing fails: from then on the subscriber is failing, backing off on the API's clock.
        await Migrate();
        await Settle(Factory);
        await Receiver.WaitFor(_ => Subscription(failing).Result["delivery"]!["failedSince"] is not null, "/failing's first failure");

        // Two more migrations: /failing now has three pairs with a due head each, which a healthy subscriber would be sent at once.
        Volatile.Write(ref hanging, true);
        foreach (var guest in new[] { "vnf-2", "vnf-3" })
        {
            Assert.Equal(HttpStatusCode.Created, (await Client.PostAsJsonAsync("/api/v1/guests", new { name = guest, memoryMiB = 512, vcpus = 1, host = "host-a" }, Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await Client.PostAsJsonAsync("/api/v1/migrations", new { guest, targetHost = "host-b" }, Ct)).StatusCode);
            // One at a time: the scheduler starts one outbound migration per host (MaxOutboundPerHost = 1).
            await Settle(Factory);
        }

        // Past its backoff (at most 1 s after one failure) but within the attempt's 5 s: one probe arrives and hangs.
        Factory.Clock.Advance(TimeSpan.FromSeconds(2));
        // Each round wakes the delivery on the advanced clock: a turn that read the clock just before the advance
        // would otherwise sleep a poll interval of the fake clock, which nothing advances (seen once in 7 runs).
        var signal = Factory.Services.GetRequiredService<Ferry.Api.Notifications.NotificationSignal>();
        await Receiver.WaitFor(r => r.Delivered("/healthy").Count >= 9 && Volatile.Read(ref concurrent) == 1, "all nine at /healthy and a probe hanging at /failing",
            () => { signal.Pulse(); return Task.CompletedTask; });
        // Turns of the delivery after the probe was claimed: a fourth migration's notifications reach /healthy while the probe still hangs.
        Assert.Equal(HttpStatusCode.Created, (await Client.PostAsJsonAsync("/api/v1/guests", new { name = "vnf-4", memoryMiB = 512, vcpus = 1, host = "host-a" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await Client.PostAsJsonAsync("/api/v1/migrations", new { guest = "vnf-4", targetHost = "host-b" }, Ct)).StatusCode);
        await Settle(Factory);
        await Receiver.WaitFor(r => r.Delivered("/healthy").Count >= 12, "the fourth migration's notifications at /healthy");
        Assert.Equal(1, Volatile.Read(ref most));

        // It answers again: everything arrives, each migration's notifications in order.
        release.TrySetResult(StatusCodes.Status204NoContent);
        await Receiver.WaitFor(r => r.Delivered("/failing").Count >= 12, "all twelve at /failing",
            () => { Factory.Clock.Advance(TimeSpan.FromSeconds(1)); return Task.CompletedTask; });
        foreach (var migration in Receiver.Delivered("/failing").GroupBy(n => n["migrationId"]!.GetValue<string>()))
        {
            Assert.Equal(CompletedFlow, Statuses(migration));
        }

        Assert.Equal(12, Receiver.Delivered("/failing").Select(n => n["id"]!.GetValue<string>()).Distinct().Count());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
