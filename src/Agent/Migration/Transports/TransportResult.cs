namespace Ferry.Agent.Migration.Transports;

/// <summary>
/// How a migration ended, whatever moved it. <paramref name="GuestOnTarget"/> says where the guest
/// is: true once it runs at the target, also when something failed after the switch-over.
/// <paramref name="Measurements"/> are there when the guest moved (and for a failure after it).
/// </summary>
public sealed record TransportResult(
    MigrationOutcome Outcome,
    string? FailureReason,
    bool GuestOnTarget,
    TransportProgress? Last,
    MigrationMeasurements? Measurements)
{
    public static TransportResult Failed(string reason, bool guestOnTarget = false, TransportProgress? last = null, MigrationMeasurements? measurements = null) =>
        new(MigrationOutcome.Failed, reason, guestOnTarget, last, measurements);

    public static TransportResult Cancelled(TransportProgress? last = null) =>
        new(MigrationOutcome.Cancelled, "Cancelled on request.", false, last, null);
}
