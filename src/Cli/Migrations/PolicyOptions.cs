using System.CommandLine;

namespace Ferry.Cli.Migrations;

/// <summary>The limits a migration runs under (<c>policy</c> in REST); what is not given takes the API's default.</summary>
internal sealed class PolicyOptions
{
    public PolicyOptions()
    {
        Transport.AcceptOnlyFromAmong("auto", "qemu", "native");
        Positive(MaxDowntimeMs);
        Positive(MaxTotalMs);
        Positive(BandwidthMbps);
        Positive(ProbePps);
    }

    public Option<string?> Transport { get; } = new("--transport")
    {
        Description = "How memory moves: qemu (QEMU's loop), native (Ferry's engine) or auto (native where it runs live) [API default: auto]",
    };

    public Option<double?> MaxDowntimeMs { get; } = new("--max-downtime-ms")
    {
        Description = "Downtime budget and SLA limit, ms [API default: 10]",
        HelpName = "N",
    };

    public Option<double?> MaxTotalMs { get; } = new("--max-total-ms")
    {
        Description = "Total-time SLA limit, ms [API default: 2000]",
        HelpName = "N",
    };

    public Option<int?> BandwidthMbps { get; } = new("--bandwidth-mbps")
    {
        Description = "Bandwidth cap, Mbit/s [API default: none]",
        HelpName = "N",
    };

    public Option<int?> ProbePps { get; } = new("--probe-pps")
    {
        Description = "Measure the network downtime with a probe of N frames/s through the guest (a guest with two vhost-user ports)",
        HelpName = "N",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Transport);
        command.Options.Add(MaxDowntimeMs);
        command.Options.Add(MaxTotalMs);
        command.Options.Add(BandwidthMbps);
        command.Options.Add(ProbePps);
    }

    /// <summary>The <c>policy</c> object of the request; null when no option was given.</summary>
    public object? Read(ParseResult parse)
    {
        var policy = new
        {
            maxDowntimeMs = parse.GetValue(MaxDowntimeMs),
            maxTotalTimeMs = parse.GetValue(MaxTotalMs),
            transport = parse.GetValue(Transport),
            bandwidthMbps = parse.GetValue(BandwidthMbps),
            probeRatePps = parse.GetValue(ProbePps),
        };
        return policy is { maxDowntimeMs: null, maxTotalTimeMs: null, transport: null, bandwidthMbps: null, probeRatePps: null } ? null : policy;
    }

    private static void Positive<T>(Option<T?> option)
        where T : struct, IComparable<T> =>
        option.Validators.Add(result =>
        {
            if (result.TryGet<T?>(out var parsed) && parsed is { } value && value.CompareTo(default) <= 0)
            {
                result.AddError($"{option.Name} must be greater than 0");
            }
        });
}
