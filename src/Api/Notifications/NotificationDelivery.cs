using System.Text.Json;
using System.Threading.Channels;
using Ferry.Api.Http;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Notifications;

/// <summary>
/// Delivers the outbox. Any replica may run it: rows are claimed with <c>FOR UPDATE SKIP LOCKED</c> and a lease
/// (their <c>next_attempt_at</c> moves past the attempt's end), like the scheduler's claims, so a replica that dies
/// mid-attempt leaves the row due again after the lease and another replica (or its restart) sends it again, with
/// the same notification id. Only the oldest pending notification of a (subscription, migration) pair is ever
/// claimed, so those arrive strictly in order; every other pair goes in parallel. A failing subscriber backs off
/// as a whole (its <c>retry_at</c>) and is sent one notification at a time (a probe) until one succeeds, so it holds
/// one place of <see cref="NotificationOptions.MaxParallel"/> and delays no other subscriber; migrations never wait
/// on any of this (they only wrote the rows).
/// </summary>
/// <remarks>
/// One loop (the pump) talks to the database, one round trip per turn: it records every outcome that arrived
/// since its last turn and claims as many due notifications as there are free places, in one implicit transaction.
/// The claim sees the turn's own deletes, so the next notification of a pair just delivered is claimed in the very
/// round trip that recorded its predecessor. Until 2026-12-07 every attempt was recorded by a round trip of its own
/// (four connections at most) and the loop claimed again whenever one attempt ended (a claim of one or two rows):
/// <c>make bench-notifications</c> drained 297,000 notifications at 1.5k a second, p99 130 s behind the changes.
/// </remarks>
internal sealed partial class NotificationDelivery(
    IConfiguration configuration, NotificationSignal signal, SubscriberClient subscribers, SubscriptionSecrets secrets, TimeProvider time,
    IOptions<NotificationOptions> options, ILogger<NotificationDelivery> logger) : BackgroundService
{
    private static readonly JsonSerializerOptions Json = ApiJson.Create();

    /// <summary>Attempts that ended, waiting for the pump to record them; at most <see cref="NotificationOptions.MaxParallel"/>.</summary>
    private readonly Channel<Attempted> _ended = Channel.CreateUnbounded<Attempted>(new UnboundedChannelOptions { SingleReader = true });

    // The pump's own bookkeeping, touched by no other task: an attempt holds its place until its outcome is recorded.
    private readonly Dictionary<Guid, int> _inFlightPerSubscriber = [];
    private readonly HashSet<Guid> _failing = [];
    private int _inFlight;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.DeliveryEnabled)
        {
            return;
        }

        // The API's own connection string, so that delivery borrows one connection at a time from the pool EF uses
        // (Npgsql pools by connection string) instead of keeping idle connections of its own.
        var connectionString = configuration.GetConnectionString("Ferry")!;
        var running = new List<Task>();
        var ended = new List<Attempted>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Taken before the outcomes are drained and the claim runs, so that a pulse during either is not lost.
                var wake = signal.Next;
                ended.Clear();
                while (_ended.Reader.TryRead(out var a))
                {
                    ended.Add(a);
                }

                // Their places are free for this turn's claim, whether or not the turn manages to record them.
                Release(ended);
                var room = o.MaxParallel - _inFlight;
                var claimed = new List<ClaimedNotification>();
                if (ended.Count > 0 || room > 0)
                {
                    try
                    {
                        claimed = await PumpAsync(connectionString, ended, room, stoppingToken);
                    }
                    catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                    {
                        // Nothing of this turn was written (one transaction): the outcomes' rows are sent again after
                        // their leases (at least once, same id), and the next turn claims again.
                        LogPumpFailed(logger, ended.Count, e.Message);
                    }
                }

                foreach (var row in claimed)
                {
                    _inFlight++;
                    _inFlightPerSubscriber[row.SubscriptionId] = _inFlightPerSubscriber.GetValueOrDefault(row.SubscriptionId) + 1;
                    running.Add(DeliverAsync(row, stoppingToken));
                }

                running.RemoveAll(t => t.IsCompleted);
                // The next turn starts when an attempt ends or a commit wrote rows (their pulses; any that came during
                // this turn start it at once), or a retry may have fallen due (the poll). Outcomes that arrive while a
                // turn is on the wire are recorded together by the next: under load, batches form by themselves.
                await WaitAsync(wake, o.PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: attempts in flight are cancelled; their rows are due again after the lease.
        }
        finally
        {
            await Task.WhenAll(running.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        }
    }

    private async Task WaitAsync(Task wake, TimeSpan poll, CancellationToken ct)
    {
        if (wake.IsCompleted)
        {
            return;
        }

        // A timer of its own, cancelled when the wake comes first: thousands of turns a second would otherwise leave
        // as many timers pending for a poll interval each.
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var delay = Task.Delay(poll, time, timer.Token);
        await Task.WhenAny(wake, delay);
        timer.Cancel();
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>The places of recorded (or unrecordable) attempts are free again; a subscriber's last outcome says whether it is failing.</summary>
    private void Release(List<Attempted> ended)
    {
        foreach (var a in ended)
        {
            _inFlight--;
            var id = a.Row.SubscriptionId;
            var left = _inFlightPerSubscriber.GetValueOrDefault(id) - 1;
            if (left > 0)
            {
                _inFlightPerSubscriber[id] = left;
            }
            else
            {
                _inFlightPerSubscriber.Remove(id);
            }

            if (a.Outcome.Delivered)
            {
                _failing.Remove(id);
            }
            else
            {
                _failing.Add(id);
            }
        }
    }

    private async Task DeliverAsync(ClaimedNotification row, CancellationToken ct)
    {
        AttemptOutcome outcome;
        try
        {
            // Off the pump: it claims and records while this one is on the wire.
            await Task.Yield();
            var e = JsonSerializer.Deserialize<NotificationEvent>(row.Payload, Json)!;
            var body = JsonSerializer.SerializeToUtf8Bytes(MigrationOccurrenceNotification.From(row.NotificationId, row.SubscriptionId, row.Verbosity, e), Json);
            outcome = await subscribers.PostAsync(row.SubscriptionId, row.CallbackUri, secrets.Unprotect(row.ProtectedAuthentication), body, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: not recorded, sent again after the lease.
            return;
        }
        catch (System.Security.Cryptography.CryptographicException x)
        {
            // The key ring lost the key that encrypted this subscription's secrets: nothing to send it with, retried like any failure.
            outcome = AttemptOutcome.Failure($"the subscription's credentials cannot be decrypted: {x.Message}");
        }
        catch (Exception x)
        {
            // A bug (a payload this version cannot read): retried and in the end dead-lettered like any failure,
            // visible on the subscription, instead of taking the pump down.
            outcome = AttemptOutcome.Failure($"not sent: {x.GetType().Name}: {x.Message}");
        }

        _ended.Writer.TryWrite(new Attempted(row, outcome, time.GetUtcNow()));
        signal.Pulse();
    }

    /// <summary>Exponential in the attempts, capped, with "equal jitter" (half fixed, half random) so that retries of many notifications spread out.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var o = options.Value;
        var exponential = o.MinBackoff * Math.Pow(2, Math.Min(attempts - 1, 30));
        return Jittered(exponential < o.MaxBackoff ? exponential : o.MaxBackoff);
    }

    private static TimeSpan Jittered(TimeSpan delay) => delay * (0.5 + (Random.Shared.NextDouble() / 2));

    private sealed record ClaimedNotification(long Id, Guid NotificationId, Guid SubscriptionId, int Attempts, DateTimeOffset WindowStart,
        string Payload, string CallbackUri, string Verbosity, string? ProtectedAuthentication);

    /// <summary>An attempt that ended, and when.</summary>
    private readonly record struct Attempted(ClaimedNotification Row, AttemptOutcome Outcome, DateTimeOffset At);

    [LoggerMessage(EventId = ApiEventIds.NotificationPumpFailed, Level = LogLevel.Warning, Message = "Could not record {Outcomes} outcomes and claim notifications ({Reason}); those are sent again after their leases, claims are tried again at the next wake")]
    private static partial void LogPumpFailed(ILogger logger, int outcomes, string reason);

    [LoggerMessage(EventId = ApiEventIds.NotificationAttemptFailed, Level = LogLevel.Information, Message = "Notification {NotificationId} to subscription {SubscriptionId} failed (attempt {Attempt}): {Reason}")]
    private static partial void LogAttemptFailed(ILogger logger, Guid notificationId, Guid subscriptionId, int attempt, string reason);

    [LoggerMessage(EventId = ApiEventIds.NotificationDeadLettered, Level = LogLevel.Warning, Message = "Notification {NotificationId} to subscription {SubscriptionId} dead-lettered after the maximum age: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, Guid notificationId, Guid subscriptionId, string reason);

    [LoggerMessage(EventId = ApiEventIds.NotificationsExpired, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId}: {Count} notifications waiting behind its failures dead-lettered after the maximum age")]
    private static partial void LogExpired(ILogger logger, Guid subscriptionId, int count);
}
