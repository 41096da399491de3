using Ferry.Agent.ControlPlane;
using Ferry.Agent.Grpc;
using Ferry.Agent.Guests;
using Ferry.Agent.Inventory;
using Ferry.Agent.Migration;
using Ferry.Agent.Migration.Transports.Native;
using Ferry.Agent.Ovs;
using Ferry.Agent.Probe;
using Ferry.Agent.Qemu;
using Ferry.Agent.Testing;
using Ferry.ServiceDefaults;
using Ferry.ServiceDefaults.Trust;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ControlPlaneClient = Ferry.Contracts.ControlPlane.ControlPlaneClient;
using Ferry.Agent.Migration.Transports.Qemu;

namespace Ferry.Agent;

/// <summary>The agent process: its gRPC endpoint, its components and its reporting to the API.</summary>
public static class AgentHost
{
    public const string ServiceName = "ferry-agent";

    /// <summary>
    /// Registers the agent on <paramref name="builder"/>: Kestrel on <c>Ferry:Agent:GrpcUrl</c> (HTTP/2,
    /// mutual TLS with the cluster's certificates), the AgentService, guests, migrations, and the reporters to the API, with
    /// <see cref="AgentOptions"/> validated on start.
    /// </summary>
    public static WebApplicationBuilder AddFerryAgent(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var agent = builder.Configuration.GetSection(AgentOptions.Section).Get<AgentOptions>() ?? new AgentOptions();

        // Defaults derived from the host's name, inserted first so any explicit Ferry:Qemu or Ferry:Ovs setting wins:
        // two agents on one machine then never share QEMU directories or RAM file names.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                [$"{QemuLauncherOptions.Section}:RunDirectory"] = Path.Combine(agent.ResolveRunDirectory(), "qemu"),
                [$"{QemuLauncherOptions.Section}:TmpfsDirectory"] = Path.Combine("/dev/shm", "ferry-" + agent.HostName),

                // Hugepage RAM files get a private directory of their own too, never the shared mount point itself.
                [$"{QemuLauncherOptions.Section}:HugetlbfsDirectory"] = Path.Combine("/dev/hugepages", "ferry-" + agent.HostName),
                [$"{OvsOptions.Section}:RunDirectory"] = Path.Combine(agent.ResolveRunDirectory(), "ovs"),
                [$"{OvsOptions.Section}:LogDirectory"] = Path.Combine(agent.ResolveRunDirectory(), "ovs-log"),
            },
        });

        builder.AddAgentServiceTls(agent);

        builder.AddFerryDefaults(ServiceName, [], [QemuMigrationMetrics.MeterName]);

        // The client logs every failed call with a stack trace; the agent's retry log already says
        // once per attempt what failed and when it tries again.
        builder.Logging.AddFilter("Grpc.Net.Client.Internal.GrpcCall", LogLevel.Warning);

        // Four lines per heartbeat would drown what the agent itself says.
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        var services = builder.Services;
        services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>());
        services.AddSingleton<IValidateOptions<AgentOptions>>(sp => new RenamedSettingsValidator(sp.GetRequiredService<IConfiguration>()));
        services.AddGrpc(grpc =>
        {
            // Who may call comes first: a refused caller reaches nothing, not even validation.
            grpc.Interceptors.Add<AgentCallerInterceptor>();
            grpc.Interceptors.Add<AgentExceptionInterceptor>();
        });
        services.AddFerryQemu();

        if (builder.Configuration.GetValue($"{OvsOptions.Section}:Enabled", defaultValue: true))
        {
            services.AddFerryOvs();
            services.AddHostedService<OvsSupervisor>();
        }

        services.AddFerryProbe();
        services.AddSingleton(sp => new GuestPorts(sp.GetService<IOvsSwitch>(), sp.GetRequiredService<ILogger<GuestPorts>>()));
        services.AddSingleton<IGuestRegistry, GuestRegistry>();
        services.AddHostedService<OrphanReaper>();
        services.AddOptions<FaultHoldOptions>().BindConfiguration(FaultHoldOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IFaultHold, FaultHold>();
        services.AddSingleton<IMigrationLedger, MigrationLedger>();
        services.AddSingleton<IOutgoingMigrations, OutgoingMigrations>();
        services.AddSingleton<IIncomingMigrations, IncomingMigrations>();
        services.AddFerryNativeTransport();
        services.AddSingleton<IAgentChannels, AgentChannels>();
        services.AddFerryInventory();
        services.AddSingleton<IHostDescriber, InventoryHostDescriber>();

        services.AddGrpcClient<ControlPlaneClient>((sp, client) => client.Address = new Uri(sp.GetRequiredService<IOptions<AgentOptions>>().Value.ApiUrl))
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetService<ClusterTrust>()?.CreateClientHandler(peer => peer.Role == ClusterRole.Api)
                ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true });
        services.AddSingleton<ResultOutbox>();
        services.AddSingleton<IResultOutbox>(sp => sp.GetRequiredService<ResultOutbox>());
        services.AddHostedService(sp => sp.GetRequiredService<ResultOutbox>());
        services.AddSingleton<ProgressForwarder>();
        services.AddSingleton<IProgressForwarder>(sp => sp.GetRequiredService<ProgressForwarder>());
        services.AddHostedService(sp => sp.GetRequiredService<ProgressForwarder>());
        services.AddHostedService<ControlPlaneReporter>();
        return builder;
    }

    /// <summary>Maps the AgentService and the health and metrics endpoints.</summary>
    public static WebApplication MapFerryAgent(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGrpcService<AgentGrpcService>();
        app.MapFerryDefaults();
        return app;
    }
}
