namespace Ferry.Api.Events;

/// <summary>
/// Wakes this replica's open event streams when the event log may have grown. A stream takes
/// <see cref="Next"/> before it reads the log, so a pulse between its read and its wait is not lost;
/// a woken stream reads what is new itself, so one pulse per commit is enough and spurious ones are harmless.
/// </summary>
internal sealed class EventSignal
{
    private TaskCompletionSource _next = New();

    /// <summary>Completes at the next <see cref="Pulse"/>.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Wakes every stream waiting on <see cref="Next"/>.</summary>
    public void Pulse() => Interlocked.Exchange(ref _next, New()).TrySetResult();

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
