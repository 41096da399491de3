using System.Collections.Concurrent;
using Ferry.Contracts;

namespace Ferry.Agent.Tests.Support;

/// <summary>What the fake API received; it survives restarts of the fake server.</summary>
internal sealed class ControlPlaneCalls
{
    public ConcurrentQueue<RegisterRequest> Registrations { get; } = new();

    public ConcurrentQueue<HeartbeatRequest> Heartbeats { get; } = new();

    public ConcurrentQueue<MigrationProgress> Progress { get; } = new();

    public ConcurrentQueue<MigrationProgress> Results { get; } = new();

    /// <summary>Migration ids whose results the fake refuses as the API refuses a result it holds invalid.</summary>
    public ConcurrentDictionary<string, string> RefusedResults { get; } = new(StringComparer.Ordinal);

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after <paramref name="within"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within, string what)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(within);
        while (!condition())
        {
            try
            {
                await Task.Delay(50, timeout.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting for {what}.");
            }
        }
    }
}
