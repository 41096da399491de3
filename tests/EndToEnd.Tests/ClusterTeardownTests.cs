using System.Globalization;
using Ferry.EndToEnd.Tests.MakeRun;

namespace Ferry.EndToEnd.Tests;

/// <summary>The end-to-end cluster itself holds the machine's fixed things (its namespaces, subnet and API ports): alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterTeardownCollection
{
    public const string Name = "cluster-teardown";
}

/// <summary>
/// Nothing outlives what started it (docs/reliability.md): the end-to-end suite's cluster, disposed while a guest
/// that arrived by migration still runs, leaves no process, namespace, listener, RAM file, run directory or
/// hugepage reservation. Before issue 12 every run of the suite left such a guest's 128 MiB RAM file in
/// /dev/shm/ferry-host-b (its agent stops, its guests do not, and nobody freed their files).
/// </summary>
[Collection(ClusterTeardownCollection.Name)]
public sealed class ClusterTeardownTests
{
    private static readonly string[] Terminal = ["completed", "failed", "cancelled"];

    [Fact]
    public async Task Disposing_the_cluster_after_a_migration_leaves_nothing_behind()
    {
        var filesBefore = GuestFiles();
        var hugepagesBefore = Hugepages.Reserved;
        var cluster = new TwoHostCluster();
        string arrived;
        try
        {
            await cluster.InitializeAsync();
            await cluster.Post("/api/v1/guests", new { name = "e2e-teardown", memoryMiB = 128, vcpus = 1, host = "host-a", profile = "idle", vhostUserPorts = new[] { "e2e-teardown-0" } });
            await cluster.Post("/api/v1/guests/e2e-teardown/start", new { });
            var accepted = await cluster.Post("/api/v1/migrations", new
            {
                guest = "e2e-teardown", targetHost = "host-b",
                policy = new { transport = "qemu", maxDowntimeMs = 500, completionTimeoutSecondsPerGiB = 3000, progressTimeoutSeconds = 60 },
            });
            var id = accepted["id"]!.GetValue<string>();
            var state = "";
            await cluster.WaitUntil(async () =>
            {
                state = (await cluster.Get($"/api/v1/migrations/{id}"))["state"]!.GetValue<string>();
                return Terminal.Contains(state);
            }, $"migration {id} to end", TimeSpan.FromMinutes(4));
            Assert.True(state == "completed", $"the guest did not arrive on host-b (migration {id} ended '{state}')\n{cluster.Diagnostics}");

            // What the dispose must free, there before it: the arrived guest's own instance and RAM file.
            var instances = GuestMemoryProbe.Instances(cluster.RunRoot, "host-b", "e2e-teardown");
            Assert.True(instances.Count == 1, $"host-b runs {instances.Count} instances of the arrived guest\n{cluster.Diagnostics}");
            arrived = Path.Combine("/dev/shm/ferry-host-b", $"ferry-{Path.GetFileName(instances[0])}.ram");
            Assert.True(File.Exists(arrived), $"the arrived guest's RAM file {arrived} is not there: {string.Join(", ", GuestFiles())}");
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        var left = new List<string>();
        left.AddRange(GuestFiles().Except(filesBefore).Order(StringComparer.Ordinal).Select(f => "file " + f));
        left.AddRange(ProcessTable.Snapshot().Where(p => p.CommandLine.Contains(cluster.RunRoot, StringComparison.Ordinal)).Select(p => $"process {p.Pid} {p.CommandLine}"));
        left.AddRange(TwoHostCluster.Namespaces.Where(n => File.Exists(Path.Combine("/run/netns", n))).Select(n => "network namespace " + n));
        left.AddRange(new[] { cluster.RunRoot, cluster.RunRoot + "-pg", cluster.Credentials }.Where(Directory.Exists).Select(d => "directory " + d));
        // From the kernel's socket table, not by connecting: this machine's gateway accepted a connection to
        // 10.78.0.1:5180 once the bridge was gone (seen in this test's first run).
        foreach (var port in new[] { cluster.PostgresPort, 5180, 5181 })
        {
            if (MakeRunFootprint.IsListening(port))
            {
                left.Add("a listener on port " + port.ToString(CultureInfo.InvariantCulture));
            }
        }

        if (Hugepages.Reserved != hugepagesBefore)
        {
            left.Add($"the hugepage reservation: {Hugepages.Reserved} x 2 MiB, {hugepagesBefore} before the cluster");
        }

        Assert.True(left.Count == 0, $"disposing the cluster left behind:\n{string.Join('\n', left)}");
        Assert.False(File.Exists(arrived));
    }

    /// <summary>The guests' RAM and hugetlbfs files and directories: /dev/shm/ferry-* and /dev/hugepages/ferry-*, recursively.</summary>
    private static HashSet<string> GuestFiles()
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mount in new[] { "/dev/shm", "/dev/hugepages" }.Where(Directory.Exists))
        {
            foreach (var top in Directory.EnumerateDirectories(mount, "ferry-*"))
            {
                files.UnionWith(Directory.EnumerateFileSystemEntries(top, "*", SearchOption.AllDirectories));
            }
        }

        return files;
    }
}
