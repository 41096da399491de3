using System.Globalization;

namespace Ferry.Transfer.Workload;

/// <summary>Command line of the workload guest.</summary>
/// <param name="RamPath">The RAM file to map (must exist).</param>
/// <param name="Profile">idle, random, sweep or l2fwd.</param>
/// <param name="DirtyRate">Pages per second for random and sweep (0 = as fast as possible).</param>
/// <param name="RateMbit">Offered load of the l2fwd profile in Mbit/s of 64-byte frames.</param>
/// <param name="Resume">Continue from the state in the RAM file instead of initialising it.</param>
/// <param name="Track">Register the RAM with userfaultfd write-protect.</param>
/// <param name="StartPaused">Wait for a resume command before running.</param>
/// <param name="Incoming">
/// Map the RAM file and wait for a <c>start</c> command, then resume from the state the
/// migration delivered: the target guest is ready before switch-over, as with QEMU's -incoming.
/// </param>
/// <param name="ControlPath">
/// The shared control file (see <see cref="Guest.GuestControlWord"/>) its controller pauses,
/// resumes and starts it through; without one, only stdin controls it.
/// </param>
internal sealed record WorkloadOptions(
    string RamPath, string Profile, long DirtyRate, double RateMbit, bool Resume, bool Track, bool StartPaused, bool Incoming, string? ControlPath)
{
    public const string Usage =
        "usage: ferry-workload --ram <file> [--profile idle|random|sweep|l2fwd] [--dirty-rate <pages/s>] " +
        "[--rate-mbit <Mbit/s>] [--resume] [--no-track] [--start-paused] [--incoming] [--control <file>]";

    public static WorkloadOptions? Parse(string[] args)
    {
        string? ram = null, control = null;
        string profile = "idle";
        long dirtyRate = 10_000;
        double rateMbit = 2013;
        bool resume = false, track = true, startPaused = false, incoming = false;
        for (int i = 0; i < args.Length; i++)
        {
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "--ram": ram = Next(); break;
                case "--profile": profile = Next() ?? ""; break;
                case "--dirty-rate": dirtyRate = long.Parse(Next() ?? "x", CultureInfo.InvariantCulture); break;
                case "--rate-mbit": rateMbit = double.Parse(Next() ?? "x", CultureInfo.InvariantCulture); break;
                case "--resume": resume = true; break;
                case "--no-track": track = false; break;
                case "--start-paused": startPaused = true; break;
                case "--incoming": incoming = true; break;
                case "--control": control = Next(); break;
                default: return null;
            }
        }

        return ram is null || profile is not ("idle" or "random" or "sweep" or "l2fwd")
            ? null
            : new WorkloadOptions(ram, profile, dirtyRate, rateMbit, resume || incoming, track, startPaused, incoming, control);
    }
}
