using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Ferry.Testing;

namespace Ferry.EndToEnd.Tests.MakeRun;

/// <summary>
/// Where a test's make run lives on this machine (scripts/run.sh's FERRY_API_PORT, FERRY_PG_PORT,
/// FERRY_HOSTS_PREFIX and FERRY_SUBNET): free ports, namespaces, a subnet and RAM directories of its own, so that
/// it neither meets nor takes down a make run someone keeps running in another tree on the defaults.
/// </summary>
public sealed record MakeRunPlace(int ApiPort, int PostgresPort, string Prefix, string Subnet)
{
    public Uri ApiUrl => new($"http://127.0.0.1:{ApiPort.ToString(CultureInfo.InvariantCulture)}");

    public IReadOnlyList<string> Namespaces => [Prefix + "-a", Prefix + "-b"];

    /// <summary>What scripts/hosts.sh creates in the root namespace (the fabric pair lives in the namespaces once up).</summary>
    public IReadOnlyList<string> Links => [Prefix + "-br", Prefix + "-a-br", Prefix + "-b-br", Prefix + "-fa", Prefix + "-fb"];

    public IReadOnlyList<int> Ports => [ApiPort, PostgresPort];

    /// <summary>The hosts' RAM directories under /dev/shm and /dev/hugepages (the agents' Ferry:Qemu:TmpfsDirectory and HugetlbfsDirectory).</summary>
    public IReadOnlyList<string> RamDirectories =>
        [.. from mount in new[] { "/dev/shm", "/dev/hugepages" } from host in new[] { "host-a", "host-b" } select Path.Combine(mount, $"{Prefix}-{host}")];

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["FERRY_API_PORT"] = ApiPort.ToString(CultureInfo.InvariantCulture),
        ["FERRY_PG_PORT"] = PostgresPort.ToString(CultureInfo.InvariantCulture),
        ["FERRY_HOSTS_PREFIX"] = Prefix,
        ["FERRY_SUBNET"] = Subnet,
    };

    /// <summary>Two free loopback ports, a prefix from this process's id, and a 10.N.0.0/24 no interface or route of this machine uses.</summary>
    public static MakeRunPlace Pick()
    {
        using var api = new TcpListener(IPAddress.Loopback, 0);
        using var postgres = new TcpListener(IPAddress.Loopback, 0);
        api.Start();
        postgres.Start();
        var pid = System.Environment.ProcessId;
        var used = Ip("-4", "-o", "addr", "show") + Ip("-4", "route", "show", "table", "all");
        var subnet = Enumerable.Range(0, 40).Select(i => $"10.{(90 + ((pid + i) % 40)).ToString(CultureInfo.InvariantCulture)}.0")
            .FirstOrDefault(s => !used.Contains(s + ".", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no 10.90-129.0.0/24 is free on this machine for make run's hosts:\n{used}");
        return new MakeRunPlace(
            ((IPEndPoint)api.LocalEndpoint).Port,
            ((IPEndPoint)postgres.LocalEndpoint).Port,
            "fmr" + (pid % 10000).ToString(CultureInfo.InvariantCulture),
            subnet);
    }

    private static string Ip(params string[] arguments) => Programs.Run("ip", arguments).Output;
}
