using Ferry.Agent.Ovs;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Probe;

/// <summary>The checks of <see cref="ProbeOptions"/>, each failure naming its key.</summary>
internal sealed class ProbeOptionsValidator : IValidateOptions<ProbeOptions>
{
    private const string S = ProbeOptions.Section;

    public ValidateOptionsResult Validate(string? name, ProbeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.FabricPort.Length > 0 && !OvsName.IsValid(options.FabricPort))
        {
            failures.Add($"{S}:FabricPort must be an interface name matching [a-z0-9-]{{1,15}}, or empty.");
        }

        if (options.WarmupTimeout <= TimeSpan.Zero || options.ResumeTimeout <= TimeSpan.Zero || options.Tail < TimeSpan.Zero || options.Drain < TimeSpan.Zero)
        {
            failures.Add($"{S}:WarmupTimeout and {S}:ResumeTimeout must be positive; {S}:Tail and {S}:Drain positive or zero.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
