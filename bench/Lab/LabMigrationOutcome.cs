namespace Ferry.Lab;

/// <summary>One migration of the lab as the API reported it when it ended (one row of the raw results).</summary>
/// <param name="Case">The case: <c>idle</c> or <c>l2fwd</c>.</param>
/// <param name="Transport">The transport the lab asked for.</param>
/// <param name="Run">1-based number of the migration within its case and transport.</param>
/// <param name="Id">The migration's id, or null when the API refused it.</param>
/// <param name="From">Source host.</param>
/// <param name="To">Target host.</param>
/// <param name="State">The end state (<c>completed</c>, <c>failed</c>, <c>cancelled</c>), or why there is none.</param>
/// <param name="FailureReason">Why it did not complete.</param>
/// <param name="ReportedTransport"><c>result.transport</c>.</param>
/// <param name="TransportReason"><c>result.transportReason</c>: e.g. why native ran as a paused copy.</param>
/// <param name="TotalMs"><c>result.totalTimeMs</c>.</param>
/// <param name="DowntimeMs"><c>result.downtimeMs</c>: the hypervisor's figure.</param>
/// <param name="NetworkDowntimeMs"><c>result.networkDowntimeMs</c>: the longest gap the probe saw at its sink.</param>
/// <param name="FramesSent"><c>result.framesSent</c>.</param>
/// <param name="FramesLost"><c>result.framesLost</c>.</param>
/// <param name="PacketRatePps"><c>result.packetRatePps</c>: the rate that arrived at the sink.</param>
/// <param name="SlaMet"><c>result.slaMet</c>.</param>
/// <param name="ProbeNote"><c>result.probeNote</c>: why a network figure is missing.</param>
internal sealed record LabMigrationOutcome(string Case, string Transport, int Run, Guid? Id, string From, string To, string State,
    string? FailureReason, string? ReportedTransport, string? TransportReason, double? TotalMs, double? DowntimeMs,
    double? NetworkDowntimeMs, long? FramesSent, long? FramesLost, double? PacketRatePps, bool? SlaMet, string? ProbeNote = null)
{
    public bool Completed => State == "completed";

    /// <summary>Native without a dirty tracker copies with the guest paused; the agent says so in the transport reason.</summary>
    public bool PausedCopy => TransportReason?.Contains("paused", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>How the guest moved: <c>qemu</c> (QEMU's loop), <c>live</c> (the engine, the guest running) or <c>paused-copy</c>; null when it did not.</summary>
    public string? Mode => ReportedTransport switch
    {
        "qemu" => "qemu",
        "native" => PausedCopy ? "paused-copy" : "live",
        _ => null,
    };

    /// <summary><c>result.passes</c>: memory passes, the first included.</summary>
    public int? Passes { get; init; }

    /// <summary><c>result.switchover.pauseMs</c>: native, pausing the source and capturing its device state.</summary>
    public double? PauseMs { get; init; }

    /// <summary><c>result.switchover.finalScanMs</c>.</summary>
    public double? FinalScanMs { get; init; }

    /// <summary><c>result.switchover.finalTransferMs</c>.</summary>
    public double? FinalTransferMs { get; init; }

    /// <summary><c>result.switchover.targetStartMs</c>.</summary>
    public double? TargetStartMs { get; init; }

    /// <summary><c>result.switchover.portsUpMs</c>: the guest running at the target → OVS there polling its ports.</summary>
    public double? PortsUpMs { get; init; }

    /// <summary><c>result.switchover.trafficMs</c>: the rest of the network gap.</summary>
    public double? TrafficMs { get; init; }

    /// <summary><c>result.ramCheck</c>: the native transport's proof that the target got every page.</summary>
    public string? RamCheck { get; init; }

    public static LabMigrationOutcome Refused(string @case, string transport, int run, string from, string to, string reason) =>
        new(@case, transport, run, null, from, to, "refused", reason, null, null, null, null, null, null, null, null, null);
}
