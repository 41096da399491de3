using Ferry.Testing;

namespace Ferry.Agent.Tests.Ovs;

/// <summary>The settings that give one test agent its own switch: run directory, bridge and network namespace.</summary>
internal sealed class AgentSwitch : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _namespace;
    private readonly string _bridge;

    private AgentSwitch(string root, string name)
    {
        _root = root;
        _namespace = name;
        _bridge = name;
    }

    public string RunDirectory => Path.Combine(_root, "run");

    public string LogDirectory => Path.Combine(_root, "log");

    /// <summary>The network namespace ovs-vswitchd runs in: its internal ports' tap devices are there.</summary>
    public string NetworkNamespace => _namespace;

    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Ferry:Ovs:Enabled"] = "true",
        ["Ferry:Ovs:UseSystemInstance"] = "false",
        ["Ferry:Ovs:RunDirectory"] = RunDirectory,
        ["Ferry:Ovs:LogDirectory"] = LogDirectory,
        ["Ferry:Ovs:Bridge"] = _bridge,
        ["Ferry:Ovs:NetworkNamespace"] = _namespace,

        // Two switches on a 2-core machine: idle PMD threads must leave the cores to the TCG guests.
        ["Ferry:Ovs:PmdMaxSleepMicroseconds"] = "1000",
    };

    public static AgentSwitch Create()
    {
        var name = "fg-" + Guid.NewGuid().ToString("N")[..8];
        var root = Directory.CreateTempSubdirectory("fg").FullName;
        Run("ip", "netns", "add", name);
        return new AgentSwitch(root, name);
    }

    /// <summary>Whether OVS is connected to the port's vhost-user socket, which QEMU listens on (client-mode port).</summary>
    public async Task<bool> IsConnectedAsync(string port) => (await ConnectionsAsync(port)).Count > 0;

    /// <summary>
    /// Inodes of the connections QEMU accepted on the port's socket (a reconnection gives a new one). The
    /// kernel lists an accepted end under the listening socket's path, in the network namespace of the
    /// process that connected: ovs-vswitchd's, read through its /proc entry. OVS's own <c>status</c> turns
    /// "connected" only once a guest driver starts the device, which a guest without an OS never does.
    /// </summary>
    public async Task<IReadOnlySet<string>> ConnectionsAsync(string port)
    {
        var socket = await VsctlAsync("get", "Interface", port, "options:vhost-server-path");

        // Columns: Num RefCount Protocol Flags Type St Inode Path; St 03 is SS_CONNECTED.
        return File.ReadLines($"/proc/{VswitchdPid()}/net/unix").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length == 8 && fields[5] == "03" && fields[7] == socket)
            .Select(fields => fields[6])
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The pid of the switch's ovs-vswitchd, from its pid file.</summary>
    public int VswitchdPid() => int.Parse(File.ReadAllText(Path.Combine(RunDirectory, "ovs-vswitchd.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public async Task<string[]> PortsAsync() =>
        (await VsctlAsync("list-ports", _bridge)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(p => p != Agent.Ovs.OvsPorts.MempoolKeeperPort).ToArray();

    public async Task<string> VsctlAsync(params string[] arguments) =>
        (await OvsTestSwitch.VsctlAsync(RunDirectory, arguments)).Trim('"');

    public ValueTask DisposeAsync()
    {
        // The agent is disposed first (declared later); its supervisor stopped the daemons.
        Run("ip", "netns", "delete", _namespace);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    private static void Run(string file, params string[] arguments) => Programs.Run(file, arguments);
}
