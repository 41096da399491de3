namespace Ferry.Api.Notifications;

/// <summary>
/// Wakes this replica's delivery when the outbox may hold something new: a commit that wrote outbox rows on any
/// replica (through <see cref="Events.EventNotifications"/>), a redelivery, or an attempt that ended (the next
/// notification of its migration may now go). Same pattern as <see cref="Events.EventSignal"/>.
/// </summary>
internal sealed class NotificationSignal
{
    private TaskCompletionSource _next = New();

    /// <summary>Completes at the next <see cref="Pulse"/>.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Pulse() => Interlocked.Exchange(ref _next, New()).TrySetResult();

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
