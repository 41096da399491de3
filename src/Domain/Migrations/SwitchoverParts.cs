namespace Ferry.Domain.Migrations;

/// <summary>
/// A switch-over taken apart (docs/architecture.md, "Measurements"): the network downtime a probe measures is the
/// hypervisor's downtime (pause → running at the target; for the native transport in its own steps),
/// then the target's OVS polling the guest's vhost-user ports, then the traffic finding the guest at its
/// new place. Milliseconds; the moments are each host's own clock.
/// </summary>
public sealed record SwitchoverParts
{
    /// <summary>Native: pausing the source and capturing its device state.</summary>
    public double? PauseMs { get; init; }

    /// <summary>Native: the final dirty scan, with the guest paused.</summary>
    public double? FinalScanMs { get; init; }

    /// <summary>Native: the final pages and the device state, until every stream acknowledged.</summary>
    public double? FinalTransferMs { get; init; }

    /// <summary>Native: the target loading the device state and resuming the guest, until the source heard.</summary>
    public double? TargetStartMs { get; init; }

    /// <summary>The guest running at the target → OVS-DPDK there polling every one of its vhost-user ports.</summary>
    public double? PortsUpMs { get; init; }

    /// <summary>The rest of the network downtime: the stream finding the guest at its new place.</summary>
    public double? TrafficMs { get; init; }

    /// <summary>When the source paused the guest (the source's clock).</summary>
    public DateTimeOffset? PausedAt { get; init; }

    /// <summary>When the guest started running at the target (the target's clock).</summary>
    public DateTimeOffset? RunningAt { get; init; }

    /// <summary>When OVS at the target polled the last of the guest's ports (the target's clock).</summary>
    public DateTimeOffset? PortsUpAt { get; init; }
}
