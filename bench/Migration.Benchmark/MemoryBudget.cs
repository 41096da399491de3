using System.Globalization;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// Source and target RAM both live on this machine: a run holds two guest-sized files on /dev/shm
/// (QEMU's migration thread reads every page of its source, which allocates even a hole in a
/// shared tmpfs mapping, and its target may touch every page it receives), plus the image.
/// A size that does not fit is refused up front rather than pushed into the OOM killer.
/// </summary>
internal static class MemoryBudget
{
    private const long Headroom = 1L << 30;

    public static string? Refusal(long guestBytes)
    {
        long available = MemAvailable();
        var shm = new DriveInfo("/dev/shm");
        long needed = 2 * guestBytes + Headroom;
        if (needed > available)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"needs {needed >> 20} MiB (source + target RAM of {guestBytes >> 20} MiB each, plus 1 GiB headroom) but MemAvailable is {available >> 20} MiB");
        }

        if (needed > shm.AvailableFreeSpace)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"needs {needed >> 20} MiB on /dev/shm but it has {shm.AvailableFreeSpace >> 20} MiB free");
        }

        return null;
    }

    private static long MemAvailable()
    {
        foreach (string line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
