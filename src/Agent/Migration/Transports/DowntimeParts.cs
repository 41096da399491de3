namespace Ferry.Agent.Migration.Transports;

/// <summary>
/// The native transport's hypervisor downtime in its steps, in milliseconds: pausing the source and
/// capturing its device state, the final dirty scan, the final transfer until every stream acknowledged,
/// and the target's start (device state loaded, guest resumed, confirmation back).
/// </summary>
public sealed record DowntimeParts(double PauseMs, double FinalScanMs, double FinalTransferMs, double TargetStartMs);
