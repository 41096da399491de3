using System.Diagnostics.Metrics;
using Ferry.Agent.Migration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Ferry.Agent.Migration.Transports.Qemu;

namespace Ferry.Agent.Tests.Support;

internal static class TestMigrations
{
    private static readonly ServiceProvider Services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public static IMeterFactory SharedMeterFactory => Services.GetRequiredService<IMeterFactory>();

    public static QemuMigration Create(IMeterFactory? meterFactory = null) =>
        new(TimeProvider.System, new QemuMigrationMetrics(meterFactory ?? SharedMeterFactory), NullLogger<QemuMigration>.Instance);
}
