using System.Globalization;
using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Qemu;

/// <summary>
/// The environment that makes a program start with a userfaultfd the agent can take: the preload
/// library built beside the agent, and the descriptor number it moves its userfaultfd to. For QEMU and
/// ovs-vswitchd, the processes that write guest RAM.
/// </summary>
internal static class DirtyTrackerPreload
{
    public static void Apply(IDictionary<string, string?> environment, bool enabled)
    {
        if (!enabled || ProcessUserfaultfd.FindPreloadLibrary() is not { } library)
        {
            return;
        }

        environment["LD_PRELOAD"] = environment.TryGetValue("LD_PRELOAD", out var other) && !string.IsNullOrEmpty(other) ? $"{library} {other}" : library;
        environment["FERRY_UFFD_FD"] = ProcessUserfaultfd.DefaultDescriptor.ToString(CultureInfo.InvariantCulture);
    }
}
