using System.Collections.Concurrent;
using Ferry.Api.Scheduling;

namespace Ferry.Api.Tests.Support;

/// <summary>Records what the scheduler hands over, without agents; a test drives the migration's phases itself.</summary>
public sealed class FakeDispatcher : IMigrationDispatcher
{
    public ConcurrentQueue<Guid> Runs { get; } = new();

    public ConcurrentQueue<Guid> Aborts { get; } = new();

    /// <summary>Holds every run until released, as a migration in flight would.</summary>
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task RunAsync(Guid migrationId, CancellationToken stopping)
    {
        Runs.Enqueue(migrationId);
        await Release.Task.WaitAsync(stopping);
    }

    /// <summary>The scheduler starts runs on the thread pool: wait until <paramref name="count"/> have begun.</summary>
    public async Task<IReadOnlyList<Guid>> RunsStarted(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Runs.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        return Runs.ToList();
    }

    public Task<bool> AbortAsync(Guid migrationId, CancellationToken cancellationToken)
    {
        Aborts.Enqueue(migrationId);
        return Task.FromResult(true);
    }
}
