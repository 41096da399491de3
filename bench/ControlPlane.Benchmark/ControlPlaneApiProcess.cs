using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Ferry.Testing;

namespace Ferry.ControlPlane.Benchmark;

/// <summary>
/// The API as it runs in production: its own process (so its memory is its own), configured by environment
/// variables the way <c>scripts/run.sh</c> configures it, with mutual TLS on the agent endpoint and an API key.
/// </summary>
internal sealed class ControlPlaneApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ControlPlaneApiProcess(Process process, string restUrl, string grpcUrl, string apiKey)
    {
        _process = process;
        RestUrl = restUrl;
        GrpcUrl = grpcUrl;
        ApiKey = apiKey;
    }

    public string RestUrl { get; }

    public string GrpcUrl { get; }

    public string ApiKey { get; }

    public int Pid => _process.Id;

    /// <summary>
    /// CPU time the API process has used so far (user and system, /proc/PID/stat's utime and stime), in seconds. What a
    /// migration costs the API in CPU holds better than a rate on a machine whose other tenants take the cores.
    /// </summary>
    public double CpuSeconds()
    {
        // The command name (field 2) may hold spaces; the fields counted from after its closing parenthesis do not.
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / (double)ClockTicksPerSecond;
    }

    // sysconf(_SC_CLK_TCK): 100 on every Linux architecture .NET runs on (USER_HZ is fixed at 100 by the kernel's ABI).
    private const int ClockTicksPerSecond = 100;

    /// <summary>Resident memory of the API process (VmRSS), in MiB.</summary>
    public double ResidentMiB()
    {
        var line = File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kib = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return kib / 1024.0;
    }

    public static async Task<ControlPlaneApiProcess> StartAsync(string connectionString, TestPki pki, IReadOnlyDictionary<string, string> settings)
    {
        var dll = Path.Combine(Repository.Root, "src/Api/bin", Repository.Configuration, "net10.0/Ferry.Api.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"the API is not built: {dll} (dotnet build src/Api -c {Repository.Configuration})");
        }

        var (certificate, key) = pki.Api();
        var apiKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var restUrl = $"http://127.0.0.1:{FreePort()}";
        var grpcUrl = $"https://127.0.0.1:{FreePort()}";
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--contentRoot");
        start.ArgumentList.Add(Path.Combine(Repository.Root, "src/Api"));
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Ferry"] = connectionString,
            ["Kestrel__Endpoints__Http__Url"] = restUrl,
            ["Kestrel__Endpoints__Grpc__Url"] = grpcUrl,
            ["Ferry__Tls__CaFile"] = pki.CaFile,
            ["Ferry__Tls__CertificateFile"] = certificate,
            ["Ferry__Tls__KeyFile"] = key,
            ["Ferry__Security__ApiKeys__0__Name"] = "bench",
            ["Ferry__Security__ApiKeys__0__Key"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey))),
            ["Ferry__Security__ApiKeys__0__Scopes__0"] = "admin",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var api = new ControlPlaneApiProcess(process, restUrl, grpcUrl, apiKey);
        process.OutputDataReceived += (_, e) => api.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => api.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await api.WaitReadyAsync();
        return api;
    }

    /// <summary>The API's last words, for a run that went wrong.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            // The tail is what explains a failure; a long run must not grow this without bound.
            if (_log.Length > 64 * 1024)
            {
                _log.Remove(0, _log.Length - 32 * 1024);
            }

            _log.AppendLine(line);
        }
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 240; i++)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the API exited with {_process.ExitCode}:\n{Log}");
            }

            try
            {
                if ((await http.GetAsync(RestUrl + "/readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"the API did not become ready in 60 s:\n{Log}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
