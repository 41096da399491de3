using Ferry.Agent.Probe;
using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.Probe;

/// <summary>
/// A probe's stream over a real veth pair in a namespace of its own, broken for real: the generator's
/// interface is deleted under it while it sends. The probe ends; the migration it measured does not notice.
/// </summary>
public sealed class ProbeFaultTests
{
    private static readonly ProbeOptions Options = new()
    {
        WarmupTimeout = TimeSpan.FromSeconds(10),
        ResumeTimeout = TimeSpan.FromSeconds(1),
        Tail = TimeSpan.Zero,
        Drain = TimeSpan.FromMilliseconds(100),
    };

    [Fact]
    public async Task A_generator_whose_interface_vanishes_ends_the_probe_and_finishing_reports_why_instead_of_throwing()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        var id = Guid.NewGuid().ToString();
        var probes = new VethNetworkProbes(ns);
        var run = await probes.StartAsync(id, "guest", [], 2000, TestContext.Current.CancellationToken);
        Assert.True(await run.WarmUpAsync(TestContext.Current.CancellationToken), "the stream never reached the sink over the veth pair");
        run.OpenWindow();

        await ns.IpAsync("link", "del", ProbeSteering.PortsFor(id).Generator);
        await ControlPlaneCalls.WaitUntilAsync(() => run.Failure is not null, TimeSpan.FromSeconds(30), "the generator to notice its interface is gone");
        run.CloseWindow();
        var outcome = await run.FinishAsync(guestMoved: true, TestContext.Current.CancellationToken);
        await run.DisposeAsync();

        Assert.Null(outcome.NetworkDowntime);
        Assert.StartsWith("the probe failed", outcome.Note, StringComparison.Ordinal);
        Assert.True(outcome.FramesSent > 0);
    }

    [Fact]
    public async Task A_probe_that_fails_mid_migration_costs_its_measurement_and_the_migration_still_completes_and_is_reported()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        var probes = new VethNetworkProbes(ns);
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url, services: s => s.AddSingleton<INetworkProbes>(probes));
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url, services: s => s.AddSingleton<INetworkProbes>(probes));
        var guest = PageCounter("probed", 128);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("probed"));
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, Transport = Transport.Qemu, ProbeRatePps = 1000 };
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call());
        var pulled = false;

        var messages = await MigrateToEndAsync(a.Client, Migrate(id, "probed", target, b, policy), async p =>
        {
            if (!pulled && p.Phase == MigrationPhase.Running)
            {
                pulled = true;
                await ns.IpAsync("link", "del", ProbeSteering.PortsFor(id).Generator);
                await ControlPlaneCalls.WaitUntilAsync(() => probes.Runs[id].Failure is not null, TimeSpan.FromSeconds(30), "the probe to notice its interface is gone");
            }
        });
        var end = messages[^1];
        Report("probe broken mid-migration", end);

        Assert.True(pulled, "no sample came before the end; the probe was never broken");
        Assert.True(end.Phase == MigrationPhase.Completed, $"{end.Phase}: {end.FailureReason}");
        Assert.True(end.GuestOnTarget);
        Assert.StartsWith("the probe failed", end.Stats.ProbeNote, StringComparison.Ordinal);
        Assert.False(end.Stats.HasNetworkDowntimeMs);
        await ControlPlaneCalls.WaitUntilAsync(() => api.Calls.Results.Any(r => r.MigrationId == id), TimeSpan.FromSeconds(30), "the result at the API");
        var invariant = await QemuHost.StopAndCheckInvariantAsync(b.Qemu("probed"));
        Assert.True(invariant.Holds, invariant.ToString());
    }

    /// <summary>Probes whose stream runs over a veth pair made per migration, generator end to sink end, as through a forwarding guest.</summary>
    private sealed class VethNetworkProbes(TestNetworkNamespace ns) : INetworkProbes
    {
        public System.Collections.Concurrent.ConcurrentDictionary<string, ProbeRun> Runs { get; } = new(StringComparer.Ordinal);

        public Task SteerToIncomingGuestAsync(string migrationId, string guest, IReadOnlyList<string> ports, CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task<ProbeRun> StartAsync(string migrationId, string guest, IReadOnlyList<string> ports, int framesPerSecond, CancellationToken cancellationToken)
        {
            var (generator, sink) = ProbeSteering.PortsFor(migrationId);
            await ns.AddVethPairAsync(generator, sink);
            var run = new ProbeRun(new WireOnlySwitch(), Options, TimeProvider.System, NullLogger.Instance, migrationId, framesPerSecond);
            await run.StartAsync("guest-in", "guest-out", "fabric", ns.Name, cancellationToken);
            Runs[migrationId] = run;
            return run;
        }
    }
}
