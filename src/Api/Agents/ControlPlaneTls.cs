using Ferry.ServiceDefaults.Trust;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Agents;

/// <summary>
/// Mutual TLS on the agent-facing endpoint (Kestrel's <c>Grpc</c> endpoint) and on the API's calls
/// to agents, from <c>Ferry:Tls</c>. Fails closed: without certificates the API does not start
/// unless <c>Ferry:Tls:AllowInsecure</c> says so.
/// </summary>
internal static class ControlPlaneTls
{
    public const string GrpcEndpoint = "Grpc";

    public static WebApplicationBuilder AddControlPlaneTls(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ClusterTlsOptions>().BindConfiguration(ClusterTlsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ClusterTlsOptions>>(sp => new Validator(sp.GetRequiredService<IConfiguration>()));
        if (builder.Configuration.GetSection(ClusterTlsOptions.Section).Get<ClusterTlsOptions>() is { IsConfigured: true })
        {
            builder.Services.AddSingleton(sp => ClusterTrust.Load(sp.GetRequiredService<IOptions<ClusterTlsOptions>>().Value));
            builder.WebHost.ConfigureKestrel((context, kestrel) =>
                kestrel.Configure(context.Configuration.GetSection("Kestrel")).Endpoint(GrpcEndpoint, endpoint =>
                {
                    if (endpoint.IsHttps)
                    {
                        kestrel.ApplicationServices.GetRequiredService<ClusterTrust>().ConfigureServer(endpoint.HttpsOptions);
                    }
                }));
        }

        builder.Services.AddSingleton<AgentCallers>();
        return builder;
    }

    private sealed class Validator(IConfiguration configuration) : IValidateOptions<ClusterTlsOptions>
    {
        public ValidateOptionsResult Validate(string? name, ClusterTlsOptions options)
        {
            if (options.Problem(ClusterPeer.Api) is { } problem)
            {
                return ValidateOptionsResult.Fail(problem);
            }

            var url = configuration[$"Kestrel:Endpoints:{GrpcEndpoint}:Url"];
            return options.IsConfigured && url is not null && !url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                ? ValidateOptionsResult.Fail($"Kestrel:Endpoints:{GrpcEndpoint}:Url is '{url}': with {ClusterTlsOptions.Section} configured, agents are served over https only.")
                : ValidateOptionsResult.Success;
        }
    }
}
