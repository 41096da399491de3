using Ferry.Agent.Ovs;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;

namespace Ferry.Agent.Migration;

/// <summary>
/// Watches a prepared target for the guest's arrival: QEMU's RESUME event says when it started running
/// (QEMU's own timestamp), and ovs-vswitchd's log, read from the moment the target was prepared, says
/// when OVS polled each of its vhost-user ports. Both transports resume the target the same way, so one
/// watch serves both.
/// </summary>
internal sealed class ArrivalWatch : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly QemuProcess _qemu;
    private readonly VhostBackendWatch? _ports;
    private readonly QmpEventSubscription _events;
    private readonly TaskCompletionSource<DateTimeOffset> _running = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ArrivalWatch(QemuProcess qemu, VhostBackendWatch? ports)
    {
        _qemu = qemu;
        _ports = ports;
        _events = qemu.Qmp.SubscribeEvents();
        _ = WatchAsync();
    }

    /// <summary>Starts watching <paramref name="qemu"/>, waiting with <c>-incoming</c>; <paramref name="ports"/> was started before its ports were added.</summary>
    public static ArrivalWatch Start(QemuProcess qemu, VhostBackendWatch? ports) => new(qemu, ports);

    /// <summary>What is known now, waiting up to <paramref name="wait"/> for the guest's ports to be polled.</summary>
    public async Task<GuestArrival> DescribeAsync(TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (!_running.Task.IsCompletedSuccessfully)
        {
            return new GuestArrival(null, null, "the guest has not started running here");
        }

        var runningAt = _running.Task.Result;
        var ports = _qemu.Spec.VhostUserPorts ?? [];
        if (_ports is null || ports.Count == 0)
        {
            return new GuestArrival(runningAt, null, "the guest has no vhost-user ports here");
        }

        var started = timeProvider.GetTimestamp();
        while (true)
        {
            // A second of slack: OVS logs whole milliseconds, QEMU's clock reads are its own.
            if (_ports.FindPortsUp(ports, runningAt - TimeSpan.FromSeconds(1)) is { } up)
            {
                return new GuestArrival(runningAt, up, null);
            }

            if (timeProvider.GetElapsedTime(started) >= wait)
            {
                return new GuestArrival(runningAt, null, $"OVS-DPDK had not polled every vhost-user port of the guest ({string.Join(", ", ports)}) {wait.TotalSeconds:0.#} s after it ran");
            }

            await Task.Delay(PollInterval, timeProvider, cancellationToken);
        }
    }

    /// <summary>Completes when the guest started running here; cancelled when the watch ends without that (QEMU gone, or torn down).</summary>
    public Task Arrived => _running.Task;

    public void Dispose() => _events.Dispose();

    private async Task WatchAsync()
    {
        try
        {
            await foreach (var e in _events.Reader.ReadAllAsync())
            {
                if (e.Name == QmpEvent.Resume)
                {
                    _running.TrySetResult(e.Timestamp);
                    break;
                }
            }
        }
        catch (QmpException)
        {
            // The QEMU went away before it ran: there is no arrival to describe.
        }
        finally
        {
            _events.Dispose();
            _running.TrySetCanceled();
        }
    }
}
