using Ferry.Agent.Qemu;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Tests;

public sealed class AgentHostTests
{
    private static async Task<(AgentOptions Agent, QemuLauncherOptions Qemu)> ResolveAsync(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddFerryAgent();
        await using var app = builder.Build();
        return (app.Services.GetRequiredService<IOptions<AgentOptions>>().Value, app.Services.GetRequiredService<IOptions<QemuLauncherOptions>>().Value);
    }

    [Fact]
    public async Task Each_host_gets_its_own_run_directory_and_ram_directory_by_default()
    {
        var (agent, qemu) = await ResolveAsync(new() { ["Agent:HostName"] = "host-x", ["Agent:RunRoot"] = "/run/fy-test" });

        Assert.Equal("/run/fy-test/host-x", agent.ResolveRunDirectory());
        Assert.Equal("/run/fy-test/host-x/outbox", agent.ResolveOutboxDirectory());
        Assert.Equal("/run/fy-test/host-x/qemu", qemu.RunDirectory);
        Assert.Equal("/dev/shm/ferry-host-x", qemu.TmpfsDirectory);
    }

    [Fact]
    public async Task Explicit_qemu_directories_win_over_the_derived_ones()
    {
        var (_, qemu) = await ResolveAsync(new()
        {
            ["Agent:HostName"] = "host-x",
            ["Qemu:RunDirectory"] = "/run/elsewhere",
            ["Qemu:TmpfsDirectory"] = "/dev/shm/elsewhere",
        });

        Assert.Equal("/run/elsewhere", qemu.RunDirectory);
        Assert.Equal("/dev/shm/elsewhere", qemu.TmpfsDirectory);
    }
}
