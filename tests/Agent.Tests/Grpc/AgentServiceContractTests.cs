using Ferry.Agent.Guests;
using Ferry.Agent.Qemu;
using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.Grpc;

/// <summary>The AgentService's guards and idempotency, on one real agent host with small idle guests.</summary>
public sealed class AgentServiceContractTests
{
    [Theory]
    [InlineData("../etc")]
    [InlineData("a,b")]
    [InlineData("UPPER")]
    [InlineData("nul\0")]
    [InlineData("")]
    public async Task Guest_names_that_could_escape_a_path_or_inject_an_option_are_refused(string name)
    {
        await using var api = new FakeControlPlane();
        await using var agent = await AgentTestHost.StartAsync("host-v", api.Url);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = Idle(name) }, Call()));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Empty(await agent.Guests.ListAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("exec:cat")]
    [InlineData("example.org")]
    [InlineData("127.0.0.1:4444")]
    [InlineData("")]
    public async Task Migrate_refuses_a_target_address_that_is_not_an_ip_literal(string address)
    {
        await using var api = new FakeControlPlane();
        await using var agent = await AgentTestHost.StartAsync("host-v", api.Url);
        await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = Idle("target-uri") }, Call());
        var request = new MigrateRequest
        {
            MigrationId = Guid.NewGuid().ToString(),
            GuestName = "target-uri",
            TargetAddress = address,
            TargetPort = 4444,
            TargetAgentEndpoint = agent.Endpoint.ToString(),
        };

        var refused = await Assert.ThrowsAsync<RpcException>(() => MigrateToEndAsync(agent.Client, request));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal("running", (await agent.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "target-uri" }, Call())).RunState);
    }

    [Fact]
    public async Task Launching_a_running_guest_again_is_refused_as_already_existing_and_starts_no_second_qemu()
    {
        await using var api = new FakeControlPlane();
        await using var agent = await AgentTestHost.StartAsync("host-v", api.Url);
        var first = await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = Idle("twice") }, Call());
        var pid = agent.Qemu("twice").Pid;

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = Idle("twice") }, Call()));

        Assert.Equal(StatusCode.AlreadyExists, refused.StatusCode);
        Assert.Contains($"pid {pid}, running", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("running", first.RunState);
        Assert.Equal(pid, agent.Qemu("twice").Pid);
        Assert.Single(OrphanReaper.Find(Path.Combine(agent.RunDirectory, "q")), q => q.Instance == "twice");
        var stopped = await agent.Client.StopGuestAsync(new StopGuestRequest { Name = "twice" }, Call());
        Assert.False(stopped.Exists);
        Assert.False((await agent.Client.StopGuestAsync(new StopGuestRequest { Name = "twice" }, Call())).Exists);
    }

    [Fact]
    public async Task Preparing_a_migration_twice_returns_the_same_listener_and_a_torn_down_target_stays_down()
    {
        await using var api = new FakeControlPlane();
        await using var agent = await AgentTestHost.StartAsync("host-v", api.Url);
        var id = Guid.NewGuid().ToString();
        var request = new PrepareIncomingRequest { MigrationId = id, Guest = Idle("incoming"), Policy = new MigrationPolicy { Transport = Transport.Auto } };

        var replies = await Task.WhenAll(
            agent.Client.PrepareIncomingAsync(request, Call()).ResponseAsync,
            agent.Client.PrepareIncomingAsync(request, Call()).ResponseAsync);

        Assert.Equal(replies[0], replies[1]);
        var target = agent.Qemu("incoming");
        Assert.Equal("inmigrate", (await agent.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "incoming" }, Call())).RunState);
        var cleanup = new CleanupRequest { MigrationId = id, GuestName = "incoming", Role = CleanupRequest.Types.Role.Target };
        // The source agent and the control plane both tear a cancelled target down, at the same time:
        // whichever answers first, the target is gone by then.
        var cleanups = new[] { agent.Client.CleanupAsync(cleanup, Call()).ResponseAsync, agent.Client.CleanupAsync(cleanup, Call()).ResponseAsync };
        await Task.WhenAny(cleanups);
        Assert.True(target.HasExited);
        Assert.False(File.Exists(target.Layout.RamFile));
        await Task.WhenAll(cleanups);
        await agent.Client.CleanupAsync(cleanup, Call());
        Assert.False((await agent.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "incoming" }, Call())).Exists);
        var late = await Assert.ThrowsAsync<RpcException>(async () => await agent.Client.PrepareIncomingAsync(request, Call()));
        Assert.Equal(StatusCode.FailedPrecondition, late.StatusCode);
    }

    [Fact]
    public async Task Cancel_and_cleanup_of_an_unknown_migration_change_nothing()
    {
        await using var api = new FakeControlPlane();
        await using var agent = await AgentTestHost.StartAsync("host-v", api.Url);
        await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = Idle("bystander") }, Call());
        var id = Guid.NewGuid().ToString();

        var cancel = await agent.Client.CancelAsync(new CancelRequest { MigrationId = id }, Call());
        await agent.Client.CleanupAsync(new CleanupRequest { MigrationId = id, GuestName = "other", Role = CleanupRequest.Types.Role.Target }, Call());
        await agent.Client.CleanupAsync(new CleanupRequest { MigrationId = id, GuestName = "other", Role = CleanupRequest.Types.Role.Source }, Call());

        Assert.False(cancel.Cancelled);
        Assert.Equal("running", (await agent.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "bystander" }, Call())).RunState);
    }

    [Fact]
    public async Task Source_cleanup_refuses_to_remove_a_guest_that_still_runs_here()
    {
        await using var api = new FakeControlPlane();
        await using var agent = await AgentTestHost.StartAsync("host-v", api.Url);
        await agent.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = Idle("precious") }, Call());

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await agent.Client.CleanupAsync(
            new CleanupRequest { MigrationId = Guid.NewGuid().ToString(), GuestName = "precious", Role = CleanupRequest.Types.Role.Source }, Call()));

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal("running", (await agent.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "precious" }, Call())).RunState);
    }

    [Fact]
    public async Task Describe_reports_the_accelerator_guests_get_the_qemu_version_and_the_dirty_trackers()
    {
        await using var api = new FakeControlPlane();
        await using var agent = await AgentTestHost.StartAsync("host-v", api.Url);

        var inventory = await agent.Client.DescribeAsync(new DescribeRequest(), Call());

        Assert.Matches(@"^\d+\.\d+\.\d+$", inventory.QemuVersion);
        Assert.Equal(agent.Services.GetRequiredService<IQemuLauncher>().AcceleratorFor(GuestKind.Firmware).Accelerator == Accelerator.Kvm, inventory.Kvm);
        Assert.True(inventory.Kvm || inventory.KvmReason.Length > 0);
        var launcher = agent.Services.GetRequiredService<IQemuLauncher>();
        Assert.Equal(
            [("firmware", launcher.AcceleratorFor(GuestKind.Firmware).Name), ("linux", launcher.AcceleratorFor(GuestKind.Linux).Name)],
            inventory.Accelerators.Select(a => (a.GuestKind, a.Accelerator)));
        Assert.All(inventory.Accelerators, a => Assert.NotEmpty(a.Reason));
        Assert.False(string.IsNullOrEmpty(inventory.CpuModel));
        Assert.NotEmpty(inventory.CpuFlags);
        Assert.Equal(["soft-dirty", "uffd-wp"], inventory.DirtyTracking.Concat(inventory.DirtyTrackingUnavailable.Keys).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("Ferry:Agent:MigrationAddress", "migration.example")]
    [InlineData("Ferry:Agent:GrpcUrl", "http://agent.example:5090")]
    [InlineData("Ferry:Agent:HostName", "Host_A")]
    [InlineData("Ferry:Agent:ApiUrl", "not a url")]
    public async Task An_agent_with_an_invalid_setting_refuses_to_start(string key, string value)
    {
        await using var api = new FakeControlPlane();

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => AgentTestHost.StartAsync("host-v", api.Url, settings: new Dictionary<string, string?> { [key] = value }));

        Assert.Contains(key.Split(':')[^1], refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Agent:HostName", "host-v", "Ferry:Agent:HostName")]
    [InlineData("Ovs:Bridge", "br-old", "Ferry:Ovs:Bridge")]
    [InlineData("Agent:Testing:HoldFile", "/nonexistent/hold", "Ferry:Testing:HoldFile")]
    public async Task An_agent_given_a_setting_under_its_name_before_the_Ferry_prefix_refuses_to_start_and_names_the_new_key(string key, string value, string renamed)
    {
        // Ignored, the old key would leave the default in its place: another host name, another bridge.
        await using var api = new FakeControlPlane();

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => AgentTestHost.StartAsync("host-v", api.Url, settings: new Dictionary<string, string?> { [key] = value }));

        Assert.Contains($"{key} is no longer read", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"set {renamed} instead", refused.Message, StringComparison.Ordinal);
        Assert.Contains(renamed.Replace(":", "__", StringComparison.Ordinal), refused.Message, StringComparison.Ordinal);
    }
}
