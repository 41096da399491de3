using Ferry.Agent.Ovs;
using Ferry.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ferry.Agent.Tests.Ovs;

/// <summary>
/// A real ovsdb-server and ovs-vswitchd-dpdk in a private run directory with a bridge of a random
/// name (the netdev bridge's tap device lives in the host's namespace, beside any other switch).
/// Reserves hugepages with scripts/hugepages.sh first and fails, saying why, when it cannot.
/// </summary>
internal sealed class OvsTestSwitch : IAsyncDisposable
{
    /// <summary>DPDK takes dpdk-socket-mem (256 MiB, 128 pages) plus a little; two test switches may run at once.</summary>
    private const int PagesToReserve = 1200;
    private const int FreePagesNeeded = 160;

    private readonly bool _ownsNamespace;

    private OvsTestSwitch(string root, OvsOptions options, bool ownsNamespace)
    {
        Root = root;
        Options = options;
        _ownsNamespace = ownsNamespace;
        Switch = new OvsSwitch(options, TimeProvider.System, NullLogger<OvsSwitch>.Instance);
    }

    public string Root { get; }

    public OvsOptions Options { get; }

    public OvsSwitch Switch { get; }

    /// <summary>
    /// A switch whose ovs-vswitchd runs in a network namespace of its own: its <c>ovs-netdev</c> and bridge
    /// tap devices then cannot collide with another OVS-DPDK on this machine (another test run, an agent).
    /// </summary>
    public static OvsTestSwitch Create()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var root = Directory.CreateTempSubdirectory("fo").FullName;
        var options = new OvsOptions
        {
            RunDirectory = Path.Combine(root, "run"),
            LogDirectory = Path.Combine(root, "log"),
            UseSystemInstance = false,
            Bridge = "fy-" + id,
            NetworkNamespace = "fy-" + id,
        };
        Ip("netns", "add", options.NetworkNamespace);
        return new OvsTestSwitch(root, options, ownsNamespace: true);
    }

    /// <summary>A second switch on the same run directory and namespace, as the next agent after a crash would be.</summary>
    public static OvsTestSwitch Create(OvsTestSwitch sameDirectoryAs) =>
        new(sameDirectoryAs.Root, sameDirectoryAs.Options, ownsNamespace: false);

    /// <summary>Whether the bridge's tap device exists in the switch's namespace.</summary>
    public bool TapDeviceExists() => Ip("-n", Options.NetworkNamespace, "link", "show", "dev", Options.Bridge) == 0;

    /// <summary>Runs ovs-vsctl against the switch's database directly, to check what the switch did without trusting it.</summary>
    public Task<string> VsctlAsync(params string[] arguments) => VsctlAsync(Options.RunDirectory, arguments);

    /// <summary>Runs ovs-vsctl against the database of the switch whose run directory is <paramref name="runDirectory"/>; fails the test when it fails.</summary>
    public static async Task<string> VsctlAsync(string runDirectory, params string[] arguments)
    {
        var run = await Programs.RunAsync("ovs-vsctl", [$"--db=unix:{Path.Combine(runDirectory, "db.sock")}", "--no-wait", .. arguments],
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(run.Succeeded, $"ovs-vsctl {string.Join(' ', arguments)} failed: {run.Error}");
        return run.Output.Trim();
    }

    /// <summary>Reserves 2 MiB hugepages and mounts hugetlbfs through the repository's script; throws with its output when that fails.</summary>
    public static async Task ReserveHugepagesAsync()
    {
        var script = FindScript("scripts/hugepages.sh");
        var (exit, output, error) = await Programs.RunAsync("bash", [script, PagesToReserve.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (exit != 0)
        {
            throw new InvalidOperationException($"OVS-DPDK tests need {PagesToReserve} x 2 MiB hugepages and could not reserve them: {error}{output}");
        }

        var free = FreeHugepages();
        if (free < FreePagesNeeded)
        {
            throw new InvalidOperationException($"OVS-DPDK tests need {FreePagesNeeded} free 2 MiB hugepages; only {free} are free ({output.Trim()}). Something else holds them.");
        }
    }

    public static long FreeHugepages() =>
        long.Parse(File.ReadAllText("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages").Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await Switch.DisposeAsync();
        if (_ownsNamespace)
        {
            Ip("netns", "delete", Options.NetworkNamespace);
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static int Ip(params string[] arguments) => Programs.Run("ip", arguments).ExitCode;

    private static string FindScript(string relative)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
