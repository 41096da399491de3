using Ferry.Agent.Migration;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Ferry.Agent.Migration.Transports.Qemu;

namespace Ferry.Agent.Tests.Qemu;

[Trait("Tier", "fast")]
public sealed class QemuServiceCollectionExtensionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings) =>
        new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddLogging()
            .AddFerryQemu()
            .BuildServiceProvider();

    [Fact]
    public async Task The_qemu_services_resolve_with_options_bound_from_configuration()
    {
        await using var services = Build(new()
        {
            ["Ferry:Qemu:RunDirectory"] = "/run/ferry-test/qemu",
            ["Ferry:Qemu:ForceAccelerator"] = "Tcg",
            ["Ferry:Qmp:CommandTimeout"] = "00:00:03",
        });

        var launcher = services.GetRequiredService<IQemuLauncher>();

        Assert.Equal(Accelerator.Tcg, launcher.AcceleratorFor(GuestKind.Firmware).Accelerator);
        Assert.Equal(Accelerator.Tcg, launcher.AcceleratorFor(GuestKind.Linux).Accelerator);
        Assert.Equal("/run/ferry-test/qemu", services.GetRequiredService<IOptions<QemuLauncherOptions>>().Value.RunDirectory);
        Assert.Equal(TimeSpan.FromSeconds(3), services.GetRequiredService<IOptions<QmpClientOptions>>().Value.CommandTimeout);
        Assert.NotNull(services.GetRequiredService<IQemuMigration>());
        Assert.NotNull(services.GetRequiredService<IQmpConnector>());
    }

    [Fact]
    public async Task A_relative_run_directory_is_rejected_by_validation()
    {
        await using var services = Build(new() { ["Ferry:Qemu:RunDirectory"] = "relative/run" });

        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<QemuLauncherOptions>>().Value);
    }
}
