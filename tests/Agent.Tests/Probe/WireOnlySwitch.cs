using Ferry.Agent.Ovs;

namespace Ferry.Agent.Tests.Probe;

/// <summary>
/// Stands in for OVS where a probe's wire is a veth pair the test made itself (generator port to sink
/// port, as if through a forwarding guest), so that the test can pull a port away under a running probe.
/// Ports and rules are accepted and forgotten; anything else is not what a probe asks of its switch.
/// The probe's real path through OVS-DPDK is covered by ForwarderTrafficTests.
/// </summary>
internal sealed class WireOnlySwitch : IOvsSwitch
{
    public string Bridge => "wire";

    public string VhostUserSocketDirectory => throw new NotSupportedException();

    public int? VswitchdProcessId => null;

    public string VswitchdLogFile => throw new NotSupportedException();

    public Task<OvsDaemonExit> UnexpectedExit => new TaskCompletionSource<OvsDaemonExit>().Task;

    public Task EnsureStartedAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<int> AddInternalPortAsync(string port, CancellationToken cancellationToken = default) => Task.FromResult(1);

    public Task<int> AddSystemPortAsync(string port, CancellationToken cancellationToken = default) => Task.FromResult(1);

    public Task SteerAsync(ulong cookie, IReadOnlyList<SteeringRule> rules, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task RemoveSteeringAsync(ulong cookie, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task RemovePortAsync(string port, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<VhostUserPort> AddVhostUserPortAsync(string port, VhostUserMode mode = VhostUserMode.OvsServer, string? socketDirectory = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task SteerAsync(string fromPort, IReadOnlyList<string> toPorts, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task ClearSteeringAsync(string fromPort, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyDictionary<string, string>> GetInterfaceStatusAsync(string port, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyDictionary<string, string>> GetInterfaceStatisticsAsync(string port, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyList<string>> ListPortsAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<OvsSwitchStatus> GetStatusAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
