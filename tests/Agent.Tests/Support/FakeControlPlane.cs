using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Tests.Support;

/// <summary>
/// A real gRPC server with the API's ControlPlane contract on a fixed loopback port, so it can be
/// stopped and started again where the agent expects it, as an API restart would.
/// </summary>
internal sealed class FakeControlPlane : IAsyncDisposable
{
    private WebApplication? _app;

    private readonly X509Certificate2? _certificate;

    /// <param name="certificate">The API's certificate: the fake then listens with TLS, as the API does with cluster TLS.</param>
    public FakeControlPlane(X509Certificate2? certificate = null)
    {
        _certificate = certificate;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public int Port { get; }

    public string Url => $"{(_certificate is null ? "http" : "https")}://127.0.0.1:{Port}";

    public ControlPlaneCalls Calls { get; } = new();

    public static async Task<FakeControlPlane> StartAsync(X509Certificate2? certificate = null)
    {
        var fake = new FakeControlPlane(certificate);
        await fake.StartAgainAsync();
        return fake;
    }

    public async Task StartAgainAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, o =>
        {
            o.Protocols = HttpProtocols.Http2;
            if (_certificate is { } certificate)
            {
                o.UseHttps(certificate);
            }
        }));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(Calls);
        var app = builder.Build();
        app.MapGrpcService<RecordingControlPlane>();
        await app.StartAsync(TestContext.Current.CancellationToken);
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(TestContext.Current.CancellationToken);
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
