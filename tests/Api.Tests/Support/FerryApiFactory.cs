using Ferry.Api.Scheduling;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Ferry.Api.Tests.Support;

/// <summary>
/// The real API on a fresh database. The scheduler's background loop is off: tests run its
/// passes with <see cref="MigrationScheduler.RunOnceAsync"/> under a fake clock, so every
/// outcome is decided by the test, not by timing.
/// </summary>
public sealed class FerryApiFactory(string connectionString, string? instanceId = null, IReadOnlyDictionary<string, string>? settings = null,
    bool realDispatcher = false)
    : WebApplicationFactory<Program>
{
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    public FakeDispatcher Dispatcher { get; } = new();

    public MigrationScheduler Scheduler => Services.GetRequiredService<MigrationScheduler>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Ferry", connectionString);
        builder.UseSetting("Ferry:Scheduler:Enabled", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Ferry:Scheduler:InstanceId", instanceId ?? $"test-{Guid.NewGuid():N}");

        // The API refuses to start open unless told to; tests of authentication configure keys (which then apply).
        builder.UseSetting("Ferry:Security:AllowAnonymous", "true");

        // Likewise for agents: tests of mutual TLS configure the cluster's certificates.
        builder.UseSetting("Ferry:Tls:AllowInsecure", "true");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Clock);
            if (!realDispatcher)
            {
                services.AddSingleton<IMigrationDispatcher>(Dispatcher);
            }
        });
    }
}
