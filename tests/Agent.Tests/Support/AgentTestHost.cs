using Ferry.Agent.Guests;
using Ferry.Agent.Qemu;
using Ferry.Contracts;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Tests.Support;

/// <summary>
/// The real agent host (Kestrel, HTTP/2 on a loopback port the kernel picks) over private run and
/// RAM directories. Disposing stops it, then kills the QEMUs it leaves running (an agent's shutdown
/// never kills guests; a test's does), and removes its files unless the run directory was handed in
/// (to start a second life of the same agent on it). <see cref="StopLeavingGuestsAsync"/> stops the agent
/// alone, as a restart would, for the next life to adopt its QEMUs: both lives then share the RAM directory.
/// </summary>
internal sealed class AgentTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;
    private readonly string _shm;
    private readonly bool _ownsRunDirectory;
    private int _disposed;
    private bool _guestsLeft;

    private AgentTestHost(WebApplication app, Uri endpoint, string runDirectory, string shm, bool ownsRunDirectory)
    {
        _app = app;
        Endpoint = endpoint;
        RunDirectory = runDirectory;
        _shm = shm;
        _ownsRunDirectory = ownsRunDirectory;
        _channel = GrpcChannel.ForAddress(endpoint);
        Client = new AgentService.AgentServiceClient(_channel);
    }

    /// <summary>The agent's host name (<c>Ferry:Agent:HostName</c>).</summary>
    public string HostName => _app.Configuration["Ferry:Agent:HostName"]!;

    public Uri Endpoint { get; }

    public string RunDirectory { get; }

    public AgentService.AgentServiceClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public IGuestRegistry Guests => Services.GetRequiredService<IGuestRegistry>();

    public static async Task<AgentTestHost> StartAsync(string hostName, string apiUrl, string? runDirectory = null, IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        var qemu = QemuHost.FindQemu();
        if (qemu is null)
        {
            Assert.Skip("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)");
        }

        var ownsRun = runDirectory is null;
        if (runDirectory is null)
        {
            runDirectory = Directory.CreateTempSubdirectory("fagt").FullName;

            // Search only for others, as /run's directories are: QEMU, dropped to Ferry:Qemu:RunAs, reaches its
            // boot disk below (the agent runs QEMU as root when that user cannot get there).
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(runDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }
        }

        // One RAM directory per run directory, so a second life of the agent finds its guests' RAM where they are.
        var shm = Path.Combine("/dev/shm", "fagt" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(runDirectory)))[..10].ToLowerInvariant());
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Ferry:Agent:HostName"] = hostName,
            ["Ferry:Agent:GrpcUrl"] = "http://127.0.0.1:0",
            ["Ferry:Agent:MigrationAddress"] = "127.0.0.1",
            ["Ferry:Agent:ApiUrl"] = apiUrl,
            ["Ferry:Agent:RunDirectory"] = runDirectory,

            // Never the host's /var/lib/ferry: each test agent keeps its outbox in its own directory.
            ["Ferry:Agent:StateDirectory"] = Path.Combine(runDirectory, "state"),
            ["Ferry:Agent:HeartbeatInterval"] = "00:00:00.200",
            ["Ferry:Agent:CallTimeout"] = "00:00:05",
            ["Ferry:Agent:RetryBaseDelay"] = "00:00:00.050",
            ["Ferry:Agent:RetryMaxDelay"] = "00:00:00.500",
            ["Ferry:Qemu:QemuBinary"] = qemu,
            ["Ferry:Qemu:RunDirectory"] = Path.Combine(runDirectory, "q"),
            ["Ferry:Qemu:TmpfsDirectory"] = shm,

            // Never the real host's /dev/hugepages/ferry-HOST: hugepage RAM files left there by a test (its guest
            // stopped behind the agent's back) held 2 GiB of hugepages across runs.
            ["Ferry:Qemu:HugetlbfsDirectory"] = HugepageDirectory(shm),

            // Every native migration in these tests proves the target got the last version of every page.
            ["Ferry:Native:VerifyRam"] = "true",

            // These agents run guests without NICs; the OVS-DPDK wiring has its own tests.
            ["Ferry:Ovs:Enabled"] = "false",

            // Plain HTTP/2 between the tests and the agents; the tests of cluster TLS configure certificates.
            ["Ferry:Tls:AllowInsecure"] = "true",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.AddFerryAgent();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapFerryAgent();
        try
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            TryDelete(shm);
            TryDelete(HugepageDirectory(shm));
            if (ownsRun)
            {
                TryDelete(runDirectory);
            }

            throw;
        }

        return new AgentTestHost(app, new Uri(app.Urls.Single()), runDirectory, shm, ownsRun);
    }

    /// <summary>This agent's hugepage RAM directory, named as its tmpfs one.</summary>
    private static string HugepageDirectory(string shm) => Path.Combine("/dev/hugepages", Path.GetFileName(shm));

    /// <summary>The QEMU process of a guest on this host; fails the test when there is none.</summary>
    public QemuProcess Qemu(string guest) => Guests.Find(guest) ?? throw new InvalidOperationException($"No QEMU for guest '{guest}'.");

    /// <summary>Stops the agent as its restart would: its QEMUs run on, for the next life on <see cref="RunDirectory"/> to adopt.</summary>
    public async Task StopLeavingGuestsAsync()
    {
        _guestsLeft = true;
        await StopAsync();
    }

    /// <summary>Stops the agent, then kills every QEMU it leaves behind and removes its files, unless <see cref="StopLeavingGuestsAsync"/> left them for a next life. Safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_guestsLeft)
        {
            return;
        }

        await KillLeftoversAsync(Path.Combine(RunDirectory, "q"));
        TryDelete(_shm);
        TryDelete(HugepageDirectory(_shm));
        if (_ownsRunDirectory)
        {
            TryDelete(RunDirectory);
        }
    }

    private async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _channel.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    /// <summary>The QEMUs still running under <paramref name="qemuRunDirectory"/>, killed through a pidfd and waited for.</summary>
    private static async Task KillLeftoversAsync(string qemuRunDirectory)
    {
        if (!Directory.Exists(qemuRunDirectory))
        {
            return;
        }

        foreach (var leftover in OrphanReaper.Find(qemuRunDirectory))
        {
            using var handle = Ferry.Transfer.Interop.ProcessHandle.Open(leftover.Pid);
            if (handle is not null && handle.Kill())
            {
                await Task.Run(() => handle.WaitForExit(TimeSpan.FromSeconds(10)));
            }
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
            // A QEMU may hold a file for a moment after it was killed; /tmp and /dev/shm are cleaned eventually.
        }
    }
}
