using Ferry.Testing;

namespace Ferry.Agent.Tests.Probe;

/// <summary>
/// A network namespace of its own (<c>ip netns add</c>) for tests that put frames on a wire: no
/// host traffic, no IPv6 chatter, removed with everything in it on dispose. Skips the test when
/// the process may not create one (not root, no iproute2).
/// </summary>
internal sealed class TestNetworkNamespace : IAsyncDisposable
{
    private TestNetworkNamespace(string name)
    {
        Name = name;
    }

    public string Name { get; }

    public static async Task<TestNetworkNamespace> CreateAsync()
    {
        if (Environment.UserName != "root")
        {
            Assert.Skip("network namespaces and AF_PACKET sockets need root");
        }

        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip"))
        {
            Assert.Skip("iproute2 is not installed (apt-get install iproute2)");
        }

        var name = "fy" + Guid.NewGuid().ToString("N")[..10];
        await RunAsync("ip", "netns", "add", name);
        var ns = new TestNetworkNamespace(name);
        try
        {
            // Interfaces in the namespace must carry only the test's frames.
            await ns.ExecAsync("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
            await ns.ExecAsync("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
            await ns.IpAsync("link", "set", "lo", "up");
            return ns;
        }
        catch
        {
            await ns.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>ip -n NAME ARGS</c>.</summary>
    public Task IpAsync(params string[] args) => RunAsync("ip", ["-n", Name, .. args]);

    /// <summary>Runs a command inside the namespace.</summary>
    public Task ExecAsync(string command, params string[] args) => RunAsync("ip", ["netns", "exec", Name, command, .. args]);

    /// <summary>A tap interface, up, that a QEMU started inside the namespace can attach to.</summary>
    public async Task AddTapAsync(string name)
    {
        await IpAsync("tuntap", "add", "dev", name, "mode", "tap");
        await IpAsync("link", "set", name, "up");
    }

    /// <summary>A veth pair, both ends up.</summary>
    public async Task AddVethPairAsync(string first, string second)
    {
        await IpAsync("link", "add", first, "type", "veth", "peer", "name", second);
        await IpAsync("link", "set", first, "up");
        await IpAsync("link", "set", second, "up");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("ip", "netns", "delete", Name);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static async Task RunAsync(string command, params string[] args)
    {
        var run = await Programs.RunAsync(command, args, cancellationToken: TestContext.Current.CancellationToken);
        if (!run.Succeeded)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed ({run.ExitCode}): {run.Error}");
        }
    }
}
