namespace Ferry.Transfer.Migration;

/// <summary>Where the downtime went, step by step from the pause to the destination's running confirmation.</summary>
/// <param name="Pause">Pausing the guest and capturing its device state.</param>
/// <param name="FinalScan">The one dirty scan with the guest paused.</param>
/// <param name="FinalTransfer">Sending the final pass until every stream's ack (all pages in the destination RAM file).</param>
/// <param name="TargetStart">From those acks to the running confirmation (the destination starts its guest).</param>
public sealed record SwitchoverTimings(TimeSpan Pause, TimeSpan FinalScan, TimeSpan FinalTransfer, TimeSpan TargetStart);
