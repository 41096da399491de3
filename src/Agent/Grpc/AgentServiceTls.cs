using Ferry.ServiceDefaults.Trust;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Grpc;

/// <summary>
/// The agent's side of cluster TLS, from <c>Ferry:Tls</c>: its AgentService listens with TLS and
/// requires a client certificate, and it presents its own to the API and to other agents. Fails
/// closed: without certificates the agent does not start unless <c>Ferry:Tls:AllowInsecure</c> says so.
/// </summary>
internal static class AgentServiceTls
{
    public static WebApplicationBuilder AddAgentServiceTls(this WebApplicationBuilder builder, AgentOptions agent)
    {
        builder.Services.AddOptions<ClusterTlsOptions>().BindConfiguration(ClusterTlsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ClusterTlsOptions>>(sp => new Validator(sp.GetRequiredService<IOptions<AgentOptions>>()));
        if (builder.Configuration.GetSection(ClusterTlsOptions.Section).Get<ClusterTlsOptions>() is { IsConfigured: true })
        {
            builder.Services.AddSingleton(sp => ClusterTrust.Load(sp.GetRequiredService<IOptions<ClusterTlsOptions>>().Value));
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // An invalid URL is reported by the options validation, which runs before Kestrel starts.
            if (AgentOptions.TryParseListenUrl(agent.GrpcUrl, out var endpoint, out var tls))
            {
                kestrel.Listen(endpoint, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    if (tls && kestrel.ApplicationServices.GetService<ClusterTrust>() is { } trust)
                    {
                        listen.UseHttps(trust.ConfigureServer);
                    }
                });
            }
        });
        builder.Services.AddSingleton<IncomingMigrationSources>();
        return builder;
    }

    private sealed class Validator(IOptions<AgentOptions> agent) : IValidateOptions<ClusterTlsOptions>
    {
        public ValidateOptionsResult Validate(string? name, ClusterTlsOptions options)
        {
            var self = agent.Value;
            if (options.Problem(ClusterPeer.Host(self.HostName)) is { } problem)
            {
                return ValidateOptionsResult.Fail(problem);
            }

            AgentOptions.TryParseListenUrl(self.GrpcUrl, out _, out var tls);
            if (options.IsConfigured && (!tls || !self.ApiUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
            {
                return ValidateOptionsResult.Fail($"With {ClusterTlsOptions.Section} configured, Ferry:Agent:GrpcUrl and Ferry:Agent:ApiUrl must be https URLs; got '{self.GrpcUrl}' and '{self.ApiUrl}'.");
            }

            return !options.IsConfigured && tls
                ? ValidateOptionsResult.Fail($"Ferry:Agent:GrpcUrl '{self.GrpcUrl}' asks for TLS, but {ClusterTlsOptions.Section} names no certificate.")
                : ValidateOptionsResult.Success;
        }
    }
}
