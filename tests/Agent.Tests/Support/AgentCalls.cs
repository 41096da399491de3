using System.Net;
using System.Net.Sockets;
using Ferry.Contracts;
using Grpc.Core;

namespace Ferry.Agent.Tests.Support;

/// <summary>Requests and stream reading shared by the agent-level tests; every call has a deadline.</summary>
internal static class AgentCalls
{
    public static DateTime Deadline(int seconds = 60) => DateTime.UtcNow.AddSeconds(seconds);

    /// <summary>A deadline and the test's cancellation, for every unary call.</summary>
    public static CallOptions Call(int seconds = 60) => new(deadline: Deadline(seconds), cancellationToken: TestContext.Current.CancellationToken);

    public static GuestSpec PageCounter(string name, int memoryMiB) => new() { Name = name, MemoryMib = memoryMiB, Vcpus = 1, Profile = "page-counter" };

    public static GuestSpec Idle(string name, int memoryMiB = 32) => new() { Name = name, MemoryMib = memoryMiB, Vcpus = 1, Profile = "idle" };

    public static MigrateRequest Migrate(string id, string guest, PrepareIncomingReply target, AgentTestHost targetAgent, MigrationPolicy policy) => new()
    {
        MigrationId = id,
        GuestName = guest,
        TargetAddress = target.Address,
        TargetPort = target.Port,
        TargetAgentEndpoint = targetAgent.Endpoint.ToString(),
        Policy = policy,
    };

    /// <summary>Adds what the native transport's source needs from the target (the page-stream port and token), as the API forwards it.</summary>
    public static MigrateRequest WithEngine(MigrateRequest request, PrepareIncomingReply target)
    {
        request.PageStreamPort = target.PageStreamPort;
        request.PageStreamToken = target.PageStreamToken;
        return request;
    }

    /// <summary>Reads the Migrate stream to its end, handing each message to <paramref name="onEach"/> as it arrives.</summary>
    public static async Task<List<MigrationProgress>> MigrateToEndAsync(AgentService.AgentServiceClient client, MigrateRequest request, Func<MigrationProgress, Task>? onEach = null)
    {
        var messages = new List<MigrationProgress>();
        using var call = client.Migrate(request, deadline: Deadline(180), cancellationToken: TestContext.Current.CancellationToken);
        await foreach (var progress in call.ResponseStream.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            messages.Add(progress);
            if (onEach is not null)
            {
                await onEach(progress);
            }
        }

        return messages;
    }

    public static void Report(string what, MigrationProgress end) =>
        TestContext.Current.SendDiagnosticMessage($"{what}: {end.Phase} total {end.Stats?.TotalTimeMs} ms, downtime {end.Stats?.DowntimeMs} ms, setup {end.Stats?.SetupTimeMs} ms, "
            + $"{end.Stats?.BytesTransferred} bytes, passes {end.Stats?.Passes}, cleanup {end.Stats?.CleanupTimeMs} ms; {end.FailureReason}");

    /// <summary>Sequence numbers only grow and phases never go back: the API relies on both.</summary>
    public static void AssertOrdered(IReadOnlyList<MigrationProgress> messages)
    {
        for (var i = 1; i < messages.Count; i++)
        {
            Assert.True(messages[i].Sequence > messages[i - 1].Sequence, $"sequence {messages[i].Sequence} after {messages[i - 1].Sequence}");
            Assert.True(messages[i].Phase >= messages[i - 1].Phase, $"phase {messages[i].Phase} after {messages[i - 1].Phase}");
        }
    }

    /// <summary>A loopback port nothing listens on (the kernel just handed it out and it was closed again).</summary>
    public static int ClosedPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
