using System.Globalization;

namespace Ferry.ControlPlane.Benchmark;

/// <summary>
/// The fleet and the load: <c>--agents N --migrations N --rest-rate N --timeout SECONDS --warmup N
/// --migration-rate N</c>. Warm-up migrations run to their end before the measured ones (0: none). The measured
/// migrations are requested all at once, or <c>--migration-rate</c> a second (the notification run only).
/// </summary>
internal sealed record ControlPlaneBenchmarkOptions(int Agents, int Migrations, int RestRate, TimeSpan Timeout, int Warmup, int MigrationRate = 0)
{
    public static ControlPlaneBenchmarkOptions Parse(string[] args)
    {
        var options = new ControlPlaneBenchmarkOptions(1000, 2000, 200, TimeSpan.FromMinutes(10), 1000);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i++] switch
            {
                "--agents" => options with { Agents = Positive(value, "--agents") },
                "--migrations" => options with { Migrations = Positive(value, "--migrations") },
                "--rest-rate" => options with { RestRate = Positive(value, "--rest-rate") },
                "--timeout" => options with { Timeout = TimeSpan.FromSeconds(Positive(value, "--timeout")) },
                "--warmup" => options with { Warmup = value == "0" ? 0 : Positive(value, "--warmup") },
                "--migration-rate" => options with { MigrationRate = value == "0" ? 0 : Positive(value, "--migration-rate") },
                var other => throw new ArgumentException($"unknown option '{other}'; known: --agents --migrations --rest-rate --timeout --warmup --migration-rate"),
            };
        }

        return options.Agents < 2 ? throw new ArgumentException("--agents must be at least 2: a migration needs a target") : options;
    }

    private static int Positive(string value, string name) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} must be a positive integer; got '{value}'");
}
