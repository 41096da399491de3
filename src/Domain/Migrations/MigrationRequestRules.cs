using Ferry.Domain.Guests;
using Ferry.Domain.Hosts;

namespace Ferry.Domain.Migrations;

/// <summary>
/// What a migration request must satisfy beyond each value's own range (<see cref="MigrationPolicy.Validate"/>):
/// the rules that relate it to the guest and the hosts it names. Each says why a request breaks it, or null
/// when it does not; the API answers a broken rule with a validation problem on the request's field.
/// </summary>
public static class MigrationRequestRules
{
    /// <summary>
    /// Why <paramref name="target"/> cannot be the target a request names for <paramref name="guest"/> (it is
    /// the host the guest runs on), or null when it can.
    /// </summary>
    public static string? ExplainTarget(Guest guest, Host target) =>
        target.Id == guest.HostId ? $"is the guest's current host '{target.Name}'" : null;

    /// <summary>
    /// Why <paramref name="policy"/>'s traffic probe cannot measure <paramref name="guest"/>, or null when it can
    /// or the policy asks for no probe.
    /// </summary>
    public static string? ExplainProbe(Guest guest, MigrationPolicy policy) =>
        // The probe's frames enter at the first NIC and leave at the second: a guest without two has no path to measure.
        policy.ProbeRatePps is not null && guest.VhostUserPorts.Count < 2
            ? $"needs a guest with two vhost-user ports (frames in at the first, out at the second); '{guest.Name}' has {guest.VhostUserPorts.Count}"
            : null;
}
