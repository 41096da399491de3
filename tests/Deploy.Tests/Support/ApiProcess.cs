using Ferry.Testing;

namespace Ferry.Deploy.Tests.Support;

/// <summary>
/// The API run as its image runs it (<c>dotnet Ferry.Api.dll</c> in the directory holding it and its
/// appsettings.json), with a deployment's environment. Kestrel's two endpoints are moved to free loopback
/// ports: this machine is shared, and 8080 or 8443 may be taken.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    /// <summary>Bound on the API's start on a loaded machine (migrations included); a bound, not a measurement.</summary>
    public static readonly TimeSpan StartBound = TimeSpan.FromMinutes(2);

    private ApiProcess(ServiceProcess process, int httpPort, int grpcPort)
    {
        Process = process;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
    }

    public ServiceProcess Process { get; }

    /// <summary>Where REST listens here (the deployment's 8080).</summary>
    public int HttpPort { get; }

    /// <summary>Where the agents' gRPC listens here (the deployment's 8443).</summary>
    public int GrpcPort { get; }

    public HttpClient Http { get; }

    public static ApiProcess Start(IReadOnlyDictionary<string, string> environment)
    {
        var env = new Dictionary<string, string>(environment, StringComparer.Ordinal);
        int http = FreePorts.Next(), grpc = FreePorts.Next();
        env["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{http}";
        env["Kestrel__Endpoints__Grpc__Url"] = $"https://127.0.0.1:{grpc}";
        env.Remove("ASPNETCORE_URLS");
        var process = ServiceProcess.Start("api", "dotnet", [Path.Combine(AppContext.BaseDirectory, "Ferry.Api.dll")], env, AppContext.BaseDirectory);
        return new ApiProcess(process, http, grpc);
    }

    /// <summary>Waits until <c>/readyz</c> answers 200; false when the process ended or <see cref="StartBound"/> passed first.</summary>
    public async Task<bool> ReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartBound;
        while (DateTime.UtcNow < deadline && !Process.HasExited)
        {
            try
            {
                using var response = await Http.GetAsync("/readyz", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250, cancellationToken);
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
    }
}
