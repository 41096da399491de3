using Ferry.Agent.ControlPlane;
using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.ControlPlane;

/// <summary>The agent's side of the ControlPlane contract against a fake API that can be down and come back.</summary>
public sealed class ControlPlaneReportingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_agent_registers_and_heartbeats_with_its_guests()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var agent = await AgentTestHost.StartAsync("host-f", api.Url);

        await ControlPlaneCalls.WaitUntilAsync(() => !api.Calls.Registrations.IsEmpty, Patience, "a registration");
        var registration = Assert.Single(api.Calls.Registrations);
        Assert.Equal("host-f", registration.HostName);
        Assert.Equal("127.0.0.1", registration.MigrationAddress);
        Assert.Equal(agent.Endpoint, new Uri(registration.AgentEndpoint));
        Assert.False(string.IsNullOrEmpty(registration.Inventory.QemuVersion));
        Assert.True(registration.Inventory.Kvm || registration.Inventory.KvmReason.Length > 0, "without KVM the inventory says why");

        await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = Idle("beating") }, Call());
        await ControlPlaneCalls.WaitUntilAsync(
            () => api.Calls.Heartbeats.Any(h => h.HostName == "host-f" && h.Guests.Any(g => g.Name == "beating" && g.RunState == "running")),
            Patience,
            "a heartbeat listing the running guest");
    }

    [Fact]
    public async Task Registration_is_retried_until_the_api_answers()
    {
        await using var api = new FakeControlPlane();
        await using var agent = await AgentTestHost.StartAsync("host-r", api.Url);

        // Long enough for several attempts at 50 ms backoff to hit the closed port first.
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.Empty(api.Calls.Registrations);
        await api.StartAgainAsync();

        await ControlPlaneCalls.WaitUntilAsync(() => api.Calls.Registrations.Any(r => r.HostName == "host-r"), Patience, "a registration after the API came up");
        await ControlPlaneCalls.WaitUntilAsync(() => api.Calls.Heartbeats.Any(h => h.HostName == "host-r"), Patience, "a heartbeat after the registration");
    }

    [Fact]
    public async Task A_result_stays_in_the_outbox_while_the_api_is_down_and_is_delivered_when_it_comes_up()
    {
        await using var api = new FakeControlPlane();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = PageCounter("patient", 32) }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("patient"));
        var id = Guid.NewGuid().ToString();
        var closed = new PrepareIncomingReply { Address = "127.0.0.1", Port = ClosedPort(), Transport = Transport.Qemu };

        var end = (await MigrateToEndAsync(a.Client, Migrate(id, "patient", closed, b, new MigrationPolicy())))[^1];

        Assert.Equal(MigrationPhase.Failed, end.Phase);
        var outbox = a.Services.GetRequiredService<IResultOutbox>();
        Assert.Equal([id], outbox.Pending);
        Assert.True(File.Exists(Path.Combine(a.RunDirectory, "state", "outbox", id + ".result")));

        await api.StartAgainAsync();

        await ControlPlaneCalls.WaitUntilAsync(() => api.Calls.Results.Any(r => r.MigrationId == id), Patience, "the result at the API");
        Assert.Equal(end, Assert.Single(api.Calls.Results));
        await ControlPlaneCalls.WaitUntilAsync(() => outbox.Pending.Count == 0, Patience, "an empty outbox");
        var invariant = await QemuHost.StopAndCheckInvariantAsync(a.Qemu("patient"));
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task Results_left_in_the_outbox_by_an_earlier_run_are_delivered_when_the_agent_starts()
    {
        using var run = new TestDirectory();
        await using var api = new FakeControlPlane();
        var result = new MigrationProgress
        {
            MigrationId = Guid.NewGuid().ToString(),
            Sequence = 42,
            Phase = MigrationPhase.Completed,
            GuestOnTarget = true,
            Stats = new MigrationStats { Transport = Transport.Qemu, TotalTimeMs = 1234, DowntimeMs = 7, BytesTransferred = 1 << 20 },
        };
        await using (var first = await AgentTestHost.StartAsync("host-o", api.Url, run.Path))
        {
            await first.Services.GetRequiredService<IResultOutbox>().StoreAsync(result, TestContext.Current.CancellationToken);
        }

        Assert.True(File.Exists(Path.Combine(run.Path, "state", "outbox", result.MigrationId + ".result")));
        await api.StartAgainAsync();
        await using var second = await AgentTestHost.StartAsync("host-o", api.Url, run.Path);

        await ControlPlaneCalls.WaitUntilAsync(() => api.Calls.Results.Any(r => r.MigrationId == result.MigrationId), Patience, "the earlier result at the API");
        Assert.Equal(result, Assert.Single(api.Calls.Results));
        await ControlPlaneCalls.WaitUntilAsync(() => second.Services.GetRequiredService<IResultOutbox>().Pending.Count == 0, Patience, "an empty outbox");
    }

    [Fact]
    public async Task An_outbox_file_that_is_not_a_result_is_set_aside_and_not_sent()
    {
        using var run = new TestDirectory();
        Directory.CreateDirectory(Path.Combine(run.Path, "state", "outbox"));
        var garbage = Path.Combine(run.Path, "state", "outbox", Guid.NewGuid() + ".result");
        await File.WriteAllBytesAsync(garbage, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], TestContext.Current.CancellationToken);
        await using var api = await FakeControlPlane.StartAsync();
        await using var agent = await AgentTestHost.StartAsync("host-g", api.Url, run.Path);

        await ControlPlaneCalls.WaitUntilAsync(() => File.Exists(garbage + ".corrupt"), Patience, "the garbage set aside");
        Assert.False(File.Exists(garbage));
        Assert.Empty(api.Calls.Results);
    }

    [Fact]
    public async Task A_result_the_api_refuses_as_invalid_is_parked_with_the_reason_and_the_results_behind_it_are_delivered()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var agent = await AgentTestHost.StartAsync("host-p", api.Url);
        var outbox = agent.Services.GetRequiredService<IResultOutbox>();
        var refused = Result(MigrationPhase.Failed);
        var accepted = Result(MigrationPhase.Completed);
        api.Calls.RefusedResults[refused.MigrationId] = "sequence 0 is not a result";

        await outbox.StoreAsync(refused, TestContext.Current.CancellationToken);
        await outbox.StoreAsync(accepted, TestContext.Current.CancellationToken);

        await ControlPlaneCalls.WaitUntilAsync(() => api.Calls.Results.Any(r => r.MigrationId == accepted.MigrationId), Patience, "the result behind the refused one at the API");
        await ControlPlaneCalls.WaitUntilAsync(() => outbox.Parked.Count == 1, Patience, "the refused result parked");
        Assert.Equal([refused.MigrationId], outbox.Parked);
        Assert.Empty(outbox.Pending);
        var parked = Path.Combine(agent.RunDirectory, "state", "outbox", "parked", refused.MigrationId);
        Assert.Equal(refused, MigrationProgress.Parser.ParseFrom(await File.ReadAllBytesAsync(parked + ".result", TestContext.Current.CancellationToken)));
        var reason = await File.ReadAllTextAsync(parked + ".reason", TestContext.Current.CancellationToken);
        Assert.Contains("InvalidArgument sequence 0 is not a result", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(api.Calls.Results, r => r.MigrationId == refused.MigrationId);
    }

    [Fact]
    public async Task A_result_an_older_agent_left_in_the_run_directory_moves_to_persistent_storage_and_is_delivered()
    {
        using var run = new TestDirectory();
        var result = Result(MigrationPhase.Completed);
        var legacy = Path.Combine(run.Path, "outbox", result.MigrationId + ".result");
        Directory.CreateDirectory(Path.GetDirectoryName(legacy)!);
        await File.WriteAllBytesAsync(legacy, result.ToByteArray(), TestContext.Current.CancellationToken);
        await using var api = await FakeControlPlane.StartAsync();
        await using var agent = await AgentTestHost.StartAsync("host-l", api.Url, run.Path);

        await ControlPlaneCalls.WaitUntilAsync(() => api.Calls.Results.Any(r => r.MigrationId == result.MigrationId), Patience, "the older agent's result at the API");
        Assert.Equal(result, Assert.Single(api.Calls.Results));
        Assert.False(File.Exists(legacy));
        await ControlPlaneCalls.WaitUntilAsync(() => agent.Services.GetRequiredService<IResultOutbox>().Pending.Count == 0, Patience, "an empty outbox");
    }

    private static MigrationProgress Result(MigrationPhase phase) => new()
    {
        MigrationId = Guid.NewGuid().ToString(),
        Sequence = 7,
        Phase = phase,
        GuestOnTarget = phase == MigrationPhase.Completed,
        Stats = new MigrationStats { Transport = Transport.Qemu, TotalTimeMs = 321, DowntimeMs = 4 },
    };
}
