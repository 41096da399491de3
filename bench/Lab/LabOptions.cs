using System.Globalization;

namespace Ferry.Lab;

/// <summary>What one lab invocation runs; parsed from the command line scripts/lab.sh builds.</summary>
internal sealed record LabOptions
{
    public const string Usage =
        "usage: Ferry.Lab [--api http://127.0.0.1:5080] [--api-key-file .ferry/api-key] [--runs 5] [--rate 2000] [--transports qemu,native] [--idle-memory-mib 1024] " +
        "[--cases idle,l2fwd] [--out .ferry/lab] [--no-probe] [--hugepages on|off] [--settle-s 2] [--migration-timeout-s 600] [--from-results migrations.json]";

    public Uri Api { get; init; } = new("http://127.0.0.1:5080");

    /// <summary>The file holding the API key the lab sends (make run writes an admin key to .ferry/api-key); none: no key.</summary>
    public string? ApiKeyFile { get; init; }

    /// <summary>Migrations per guest and transport, alternating host-a → host-b → host-a ….</summary>
    public int Runs { get; init; } = 5;

    /// <summary>Frames per second the network probe sends through the forwarding guest (<c>policy.probeRatePps</c>).</summary>
    public int RatePps { get; init; } = 2000;

    public IReadOnlyList<string> Transports { get; init; } = ["qemu", "native"];

    public IReadOnlyList<string> Cases { get; init; } = ["idle", "l2fwd"];

    /// <summary>
    /// RAM of the idle guest. The origin document's text says 8 GiB (its QEMU line says 1 GiB); here every guest
    /// and its migration target share 2 cores and one machine's memory under TCG, so the default is 1 GiB.
    /// </summary>
    public int IdleMemoryMiB { get; init; } = 1024;

    /// <summary>Leave <c>probeRatePps</c> out of the l2fwd migrations (for an API that does not know the field yet).</summary>
    public bool NoProbe { get; init; }

    /// <summary>Back the lab guests' RAM with 2 MiB hugepages, as the origin document's <c>-mem-path /dev/hugepages</c>.</summary>
    public bool Hugepages { get; init; } = true;

    public string OutDirectory { get; init; } = ".ferry/lab";

    /// <summary>Pause after each migration, so the next starts from a guest that runs (and forwards) at its new host.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A migration still not ended after this is cancelled and counted as failed.</summary>
    public TimeSpan MigrationTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Report on an earlier run's raw results (its migrations.json) instead of migrating: no Ferry needed.</summary>
    public string? FromResults { get; init; }

    public static LabOptions? Parse(string[] args, out string? error)
    {
        error = null;
        var options = new LabOptions();
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
                options = args[i] switch
                {
                    "--api" => options with { Api = new Uri(Next()) },
                    "--api-key-file" => options with { ApiKeyFile = Next() },
                    "--runs" => options with { Runs = Int(Next()) },
                    "--rate" => options with { RatePps = Int(Next()) },
                    "--transports" => options with { Transports = List(Next()) },
                    "--cases" => options with { Cases = List(Next()) },
                    "--idle-memory-mib" => options with { IdleMemoryMiB = Int(Next()) },
                    "--out" => options with { OutDirectory = Next() },
                    "--no-probe" => options with { NoProbe = true },
                    "--from-results" => options with { FromResults = Next() },
                    "--hugepages" => options with { Hugepages = Next() switch { "on" => true, "off" => false, var v => throw new FormatException($"--hugepages on|off, not '{v}'") } },
                    "--settle-s" => options with { Settle = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
                    "--migration-timeout-s" => options with { MigrationTimeout = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
                    _ => throw new FormatException($"unknown argument '{args[i]}'"),
                };
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException or UriFormatException)
        {
            error = e.Message;
            return null;
        }

        error = options.Runs < 1 ? "--runs must be at least 1"
            : options.RatePps < 1 ? "--rate must be at least 1 frame/s"
            : options.IdleMemoryMiB < 16 ? "--idle-memory-mib must be at least 16"
            : options.Transports.FirstOrDefault(t => t is not ("qemu" or "native" or "auto")) is { } t ? $"transport '{t}' is none of qemu, native, auto"
            : options.Transports.Count == 0 ? "--transports names none"
            : options.Cases.FirstOrDefault(c => c is not ("idle" or "l2fwd")) is { } c ? $"case '{c}' is neither idle nor l2fwd"
            : options.Cases.Count == 0 ? "--cases names none"
            : null;
        return error is null ? options : null;
    }

    private static int Int(string text) => int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static string[] List(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
}
