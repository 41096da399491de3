using System.ComponentModel.DataAnnotations;
using Ferry.Agent;
using Ferry.Agent.Inventory;
using Ferry.Agent.Migration.Transports.Native;
using Ferry.Agent.Ovs;
using Ferry.Agent.Probe;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Api.Agents;
using Ferry.Api.Migrations;
using Ferry.Api.Scheduling;
using Ferry.Api.Security;
using Ferry.ServiceDefaults.Trust;
using Microsoft.Extensions.Configuration;

namespace Ferry.Deploy.Tests.Configuration;

/// <summary>
/// The settings the API and the agent read, from their own options classes: a deployment's environment
/// (<c>Section__Key</c>, ASP.NET Core's environment-variable names) is bound to them with
/// <see cref="BinderOptions.ErrorOnUnknownConfiguration"/>, exactly as the services bind it but refusing
/// a key no property takes, then validated with the classes' data annotations.
/// </summary>
public static class FerrySettings
{
    /// <summary>What the API binds (section → options type), as FerryApi, AddFerrySecurity, AddControlPlaneTls and AddFerryPersistence do.</summary>
    public static IReadOnlyDictionary<string, Type> Api { get; } = new Dictionary<string, Type>
    {
        [SecurityOptions.Section] = typeof(SecurityOptions),
        [ClusterTlsOptions.Section] = typeof(ClusterTlsOptions),
        [SchedulerOptions.Section] = typeof(SchedulerOptions),
        [IdempotencyOptions.Section] = typeof(IdempotencyOptions),
        [AgentClientOptions.Section] = typeof(AgentClientOptions),
        // Internal to the API; its section constant is read the same way.
        [(string)PersistenceOptionsType.GetField("Section")!.GetValue(null)!] = PersistenceOptionsType,
    };

    /// <summary>What the agent binds, as AgentHost and its components' Add* extensions do.</summary>
    public static IReadOnlyDictionary<string, Type> Agent { get; } = new Dictionary<string, Type>
    {
        [AgentOptions.Section] = typeof(AgentOptions),
        [ClusterTlsOptions.Section] = typeof(ClusterTlsOptions),
        [OvsOptions.Section] = typeof(OvsOptions),
        [QemuLauncherOptions.Section] = typeof(QemuLauncherOptions),
        [QmpClientOptions.Section] = typeof(QmpClientOptions),
        [InventoryOptions.Section] = typeof(InventoryOptions),
        [ProbeOptions.Section] = typeof(ProbeOptions),
        [NativeTransportOptions.Section] = typeof(NativeTransportOptions),
    };

    /// <summary>Keys outside the options classes that the API reads, and who reads them.</summary>
    public static IReadOnlyDictionary<string, string> ApiOtherKeys { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["ConnectionStrings:Ferry"] = "AddFerryPersistence (GetConnectionString(\"Ferry\"))",
        ["Kestrel:Endpoints:Http:Url"] = "Kestrel (appsettings.json names the endpoint Http)",
        ["Kestrel:Endpoints:Http:Protocols"] = "Kestrel",
        ["Kestrel:Endpoints:Grpc:Url"] = "Kestrel and ControlPlaneTls (the agents' endpoint is named Grpc)",
        ["Kestrel:Endpoints:Grpc:Protocols"] = "Kestrel",
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "FerryDefaults (OTLP export)",
        ["PGPASSWORD"] = "Npgsql (the password when the connection string has none)",
        ["ASPNETCORE_ENVIRONMENT"] = "the ASP.NET Core host",
        ["ASPNETCORE_URLS"] = "the ASP.NET Core host (src/Api/Dockerfile sets it; Kestrel's named endpoints take precedence)",
    };

    /// <summary>Keys outside the options classes that the agent's pod uses.</summary>
    public static IReadOnlyDictionary<string, string> AgentOtherKeys { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "FerryDefaults (OTLP export)",
        ["NODE_NAME"] = "the chart: $(NODE_NAME) in the agent's settings",
        ["NODE_IP"] = "the chart: $(NODE_IP) in the agent's settings and its probes",
    };

    private static Type PersistenceOptionsType => typeof(SecurityOptions).Assembly.GetType("Ferry.Api.Persistence.PersistenceOptions", throwOnError: true)!;

    /// <summary>
    /// What is wrong with <paramref name="environment"/> for a service that binds <paramref name="sections"/>:
    /// a key nothing reads, a value its property cannot take, a value out of its range. Empty when all fits.
    /// </summary>
    /// <param name="environment">The variables, <c>Section__Key</c>.</param>
    /// <param name="sections">What the service binds.</param>
    /// <param name="otherKeys">What else it reads.</param>
    /// <param name="required">Variables that must be set although their properties have defaults (a default that starts a service no one reaches).</param>
    public static IReadOnlyList<string> Problems(IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, Type> sections,
        IReadOnlyDictionary<string, string> otherKeys, params string[] required)
    {
        var configuration = Configuration(environment);
        var problems = required.Where(r => !environment.ContainsKey(r)).Select(r => $"{r} is not set").ToList();
        foreach (var key in configuration.AsEnumerable().Where(kv => kv.Value is not null).Select(kv => kv.Key))
        {
            if (!otherKeys.ContainsKey(key) && !sections.Keys.Any(s => key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"{key}: no setting of this name is read");
            }
        }

        foreach (var (section, type) in sections)
        {
            try
            {
                var bound = configuration.GetSection(section).Get(type, o => o.ErrorOnUnknownConfiguration = true) ?? Activator.CreateInstance(type)!;
                var results = new List<ValidationResult>();
                if (!Validator.TryValidateObject(bound, new ValidationContext(bound), results, validateAllProperties: true))
                {
                    problems.AddRange(results.Select(r => $"{section}: {r.ErrorMessage}"));
                }
            }
            catch (InvalidOperationException e)
            {
                problems.Add($"{section}: {e.Message}{(e.InnerException is { } inner ? " " + inner.Message : "")}");
            }
        }

        return problems;
    }

    /// <summary>The configuration ASP.NET Core builds from these environment variables (<c>__</c> is <c>:</c>).</summary>
    public static IConfiguration Configuration(IReadOnlyDictionary<string, string> environment) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(kv => new KeyValuePair<string, string?>(kv.Key.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal), kv.Value)))
            .Build();

    /// <summary>Binds one section as the service does.</summary>
    public static T Bind<T>(IReadOnlyDictionary<string, string> environment, string section) where T : new() =>
        Configuration(environment).GetSection(section).Get<T>() ?? new T();
}
