using Ferry.Agent.Guests;
using Ferry.Agent.Ovs;
using Ferry.Agent.Qemu;
using Ferry.Agent.TestGuest;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Tests;

[Trait("Tier", "fast")]
public sealed class AgentHostTests
{
    private static async Task<(AgentOptions Agent, QemuLauncherOptions Qemu)> ResolveAsync(Dictionary<string, string?> settings)
    {
        await using var app = Build(settings);
        return (app.Services.GetRequiredService<IOptions<AgentOptions>>().Value, app.Services.GetRequiredService<IOptions<QemuLauncherOptions>>().Value);
    }

    private static WebApplication Build(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddFerryAgent();
        return builder.Build();
    }

    [Fact]
    public async Task Each_host_gets_its_own_ovs_run_directory_and_the_switch_is_supervised_by_default()
    {
        await using var app = Build(new() { ["Ferry:Agent:HostName"] = "host-x", ["Ferry:Agent:RunRoot"] = "/run/fy-test" });

        var ovs = app.Services.GetRequiredService<IOptions<OvsOptions>>().Value;
        Assert.Equal("/run/fy-test/host-x/ovs", ovs.RunDirectory);
        Assert.Equal("/run/fy-test/host-x/ovs-log", ovs.LogDirectory);
        Assert.Contains(app.Services.GetServices<IHostedService>(), s => s.GetType().Name == "OvsSupervisor");
    }

    [Fact]
    public async Task A_host_without_a_switch_runs_no_ovs_and_refuses_guests_with_ports()
    {
        await using var app = Build(new() { ["Ferry:Agent:HostName"] = "host-x", ["Ferry:Agent:RunRoot"] = "/run/fy-test", ["Ferry:Ovs:Enabled"] = "false" });

        Assert.Null(app.Services.GetService<IOvsSwitch>());
        Assert.DoesNotContain(app.Services.GetServices<IHostedService>(), s => s.GetType().Name == "OvsSupervisor");
        var guests = app.Services.GetRequiredService<IGuestRegistry>();
        var refused = await Assert.ThrowsAsync<OvsCommandException>(() => guests.LaunchAsync(
            new GuestDefinition("nic-guest", 64, TestGuestProfile.Idle, VhostUserPorts: ["vhu-a"]), TestContext.Current.CancellationToken));
        Assert.Contains("runs no OVS-DPDK switch", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_host_gets_its_own_run_directory_and_ram_directory_by_default()
    {
        var (agent, qemu) = await ResolveAsync(new() { ["Ferry:Agent:HostName"] = "host-x", ["Ferry:Agent:RunRoot"] = "/run/fy-test" });

        Assert.Equal("/run/fy-test/host-x", agent.ResolveRunDirectory());
        Assert.Equal("/var/lib/ferry/host-x/outbox", agent.ResolveOutboxDirectory());
        Assert.Equal("/run/fy-test/host-x/qemu", qemu.RunDirectory);
        Assert.Equal("/dev/shm/ferry-host-x", qemu.TmpfsDirectory);
    }

    [Fact]
    public async Task Explicit_qemu_directories_win_over_the_derived_ones()
    {
        var (_, qemu) = await ResolveAsync(new()
        {
            ["Ferry:Agent:HostName"] = "host-x",
            ["Ferry:Qemu:RunDirectory"] = "/run/elsewhere",
            ["Ferry:Qemu:TmpfsDirectory"] = "/dev/shm/elsewhere",
        });

        Assert.Equal("/run/elsewhere", qemu.RunDirectory);
        Assert.Equal("/dev/shm/elsewhere", qemu.TmpfsDirectory);
    }
}
