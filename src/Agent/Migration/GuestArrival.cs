namespace Ferry.Agent.Migration;

/// <summary>
/// How a guest's arrival went on its target host, for the parts of the switch-over: when it started
/// running there and when OVS-DPDK there polled every one of its vhost-user ports (both the target's
/// clock). <paramref name="Note"/> says why a moment is missing.
/// </summary>
public sealed record GuestArrival(DateTimeOffset? RunningAt, DateTimeOffset? PortsUpAt, string? Note);
