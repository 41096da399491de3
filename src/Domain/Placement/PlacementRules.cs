using Ferry.Domain.Guests;
using Ferry.Domain.Hosts;

namespace Ferry.Domain.Placement;

/// <summary>
/// Where a guest may go: a ready host other than its own, that runs the guest's CPU model with
/// every CPU flag the source offers (a guest may be using any of them), KVM if the source has
/// it, and enough free memory of the guest's backing. Among those, the one with the fewest
/// migrations in flight, then by name so the choice is stable.
/// </summary>
public static class PlacementRules
{
    /// <summary>Why <paramref name="target"/> cannot take <paramref name="guest"/> from <paramref name="source"/>, or null when it can.</summary>
    public static string? Reject(Guest guest, Host source, Host target)
    {
        if (target.Id == source.Id)
        {
            return "is the guest's current host";
        }

        if (target.State != HostState.Ready)
        {
            return $"is {target.State.ToString().ToLowerInvariant()}";
        }

        var need = source.Capabilities;
        var have = target.Capabilities;
        if (need.Kvm && !have.Kvm)
        {
            return "has no usable KVM";
        }

        if (!string.Equals(need.CpuModel, have.CpuModel, StringComparison.Ordinal))
        {
            return $"CPU model '{have.CpuModel}' differs from the source's '{need.CpuModel}'";
        }

        var missing = need.CpuFlags.Except(have.CpuFlags, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            return "lacks CPU flags " + string.Join(",", missing);
        }

        if (guest.HugepageSizeKiB is { } size)
        {
            var free = have.FreeHugepagesMiB(size);
            if (free < guest.MemoryMiB)
            {
                return $"has {free} MiB of free {size / 1024} MiB hugepages, the guest needs {guest.MemoryMiB} MiB";
            }
        }
        else if (have.MemoryFreeMiB < guest.MemoryMiB)
        {
            return $"has {have.MemoryFreeMiB} MiB free memory, the guest needs {guest.MemoryMiB} MiB";
        }

        return null;
    }

    /// <summary>Chooses a target for <paramref name="guest"/> among <paramref name="candidates"/>.</summary>
    public static PlacementDecision Choose(Guest guest, Host source, IEnumerable<PlacementCandidate> candidates)
    {
        var rejections = new Dictionary<string, string>(StringComparer.Ordinal);
        PlacementCandidate? best = null;
        foreach (var candidate in candidates)
        {
            if (candidate.Host.Id == source.Id)
            {
                continue;
            }

            if (Reject(guest, source, candidate.Host) is { } reason)
            {
                rejections[candidate.Host.Name] = reason;
                continue;
            }

            if (best is null
                || candidate.ActiveMigrations < best.ActiveMigrations
                || (candidate.ActiveMigrations == best.ActiveMigrations
                    && string.CompareOrdinal(candidate.Host.Name, best.Host.Name) < 0))
            {
                best = candidate;
            }
        }

        return new PlacementDecision(best?.Host, rejections);
    }
}
