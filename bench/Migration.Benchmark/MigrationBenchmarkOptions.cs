using System.Globalization;
using System.Net;

namespace Ferry.Migration.Benchmark;

/// <summary>What one benchmark invocation measures; parsed from the command line the Makefile builds.</summary>
internal sealed record MigrationBenchmarkOptions
{
    public const string Usage =
        "usage: Ferry.Migration.Benchmark --size 1G --profile idle|sweep|l2fwd --link loopback|10gbit [--runs 5] [--id name] " +
        "[--target-netns ns --target-address a.b.c.d] [--run-timeout-s 120] [--downtime-ms 10] [--streams 2] [--dirty-rate pages/s] [--settle-s 2] [--qemu-prealloc on|off] [--qemu-tls on|off] [--link-detail text]";

    public required string SizeLabel { get; init; }

    public required long SizeBytes { get; init; }

    public required string Profile { get; init; }

    public required string Link { get; init; }

    public int Runs { get; init; } = 5;

    /// <summary>Prefix of every file this run creates, so a wrapper can remove leftovers after a SIGKILL.</summary>
    public string Id { get; init; } = "fb" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    /// <summary>For the shaped link: the namespace the destinations listen in (the benchmark itself runs in the source namespace).</summary>
    public string? TargetNetns { get; init; }

    public IPAddress TargetAddress { get; init; } = IPAddress.Loopback;

    /// <summary>What the link is made of, as the script that built it describes it.</summary>
    public string LinkDetail { get; init; } = "loopback (127.0.0.1) in one network namespace";

    /// <summary>Bounds one migration of either transport; a run that exceeds it fails (and is reported as failed).</summary>
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The same switch-over budget for both: QEMU's downtime-limit and the engine's DowntimeBudget.</summary>
    public TimeSpan DowntimeBudget { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Engine TCP streams (QEMU uses its single migration stream, the qemu transport's default).</summary>
    public int Streams { get; init; } = 2;

    /// <summary>Pages per second for the sweep profile.</summary>
    public long DirtyRate { get; init; } = 25_000;

    /// <summary>
    /// QEMU's memory-backend-file prealloc, on by default as the agent's launcher runs every guest.
    /// It only allocates the image copy's holes (the bytes stay the same) and is QEMU's faster case
    /// here: reading a hole of a shared tmpfs mapping allocates it inside the migration instead.
    /// </summary>
    public bool QemuPrealloc { get; init; } = true;

    /// <summary>
    /// Also runs QEMU's loop over its TLS migration (transport "qemu-tls", as the agent runs it with cluster
    /// TLS), alternating with the plain runs, for the cost of encryption. On by default.
    /// </summary>
    public bool QemuTls { get; init; } = true;

    /// <summary>How long each source guest runs before the migration starts (boot, JIT, steady dirtying).</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(2);

    public static MigrationBenchmarkOptions? Parse(string[] args, out string? error)
    {
        error = null;
        string size = "1G", profile = "idle", link = "loopback";
        int runs = 5, streams = 2;
        string? id = null, netns = null, linkDetail = null;
        IPAddress address = IPAddress.Loopback;
        double timeout = 120, downtime = 10, settle = 2;
        long dirtyRate = 25_000;
        bool prealloc = true, qemuTls = true;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--size": size = Next(); break;
                    case "--profile": profile = Next(); break;
                    case "--link": link = Next(); break;
                    case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--id": id = Next(); break;
                    case "--target-netns": netns = Next(); break;
                    case "--target-address": address = IPAddress.Parse(Next()); break;
                    case "--run-timeout-s": timeout = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--downtime-ms": downtime = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--streams": streams = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--dirty-rate": dirtyRate = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--qemu-prealloc": prealloc = Next() switch { "on" => true, "off" => false, var v => throw new FormatException($"--qemu-prealloc on|off, not '{v}'") }; break;
                    case "--qemu-tls": qemuTls = Next() switch { "on" => true, "off" => false, var v => throw new FormatException($"--qemu-tls on|off, not '{v}'") }; break;
                    case "--link-detail": linkDetail = Next(); break;
                    case "--settle-s": settle = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    default: throw new FormatException($"unknown argument '{args[i]}'");
                }
            }
        }
        catch (FormatException e)
        {
            error = e.Message;
            return null;
        }

        long? bytes = ParseSize(size);
        if (bytes is null)
        {
            error = $"SIZE '{size}' is not a size like 256M, 1G or 8G (MiB multiple, at least 64M)";
            return null;
        }

        if (link is not ("loopback" or "10gbit"))
        {
            error = $"LINK '{link}' is neither loopback nor 10gbit";
            return null;
        }

        if (link == "10gbit" && netns is null)
        {
            error = "LINK=10gbit needs --target-netns (scripts/bench-link.sh creates the namespaces and passes it)";
            return null;
        }

        if (runs < 1 || streams < 1)
        {
            error = "RUNS and --streams must be at least 1";
            return null;
        }

        return new MigrationBenchmarkOptions
        {
            SizeLabel = size,
            SizeBytes = bytes.Value,
            Profile = profile,
            Link = link,
            Runs = runs,
            Id = id ?? "fb" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            TargetNetns = netns,
            TargetAddress = address,
            LinkDetail = linkDetail ?? "loopback (127.0.0.1) in one network namespace",
            RunTimeout = TimeSpan.FromSeconds(timeout),
            DowntimeBudget = TimeSpan.FromMilliseconds(downtime),
            Streams = streams,
            DirtyRate = dirtyRate,
            Settle = TimeSpan.FromSeconds(settle),
            QemuPrealloc = prealloc,
            QemuTls = qemuTls,
        };
    }

    private static long? ParseSize(string text)
    {
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
        {
            return null;
        }

        long bytes = char.ToUpperInvariant(text[^1]) switch
        {
            'M' => n << 20,
            'G' => n << 30,
            _ => 0,
        };
        return bytes >= 64L << 20 ? bytes : null;
    }
}
