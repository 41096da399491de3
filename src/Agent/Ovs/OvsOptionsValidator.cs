using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Ovs;

/// <summary>
/// The checks of <see cref="OvsOptions"/>, each failure naming its key. Every value here ends up on an
/// <c>ovs-vsctl</c> or EAL command line or in a socket path, so a malformed one is refused before the agent starts.
/// </summary>
internal sealed partial class OvsOptionsValidator : IValidateOptions<OvsOptions>
{
    private const string S = OvsOptions.Section;

    public ValidateOptionsResult Validate(string? name, OvsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Path.IsPathRooted(options.RunDirectory) || !Path.IsPathRooted(options.LogDirectory))
        {
            failures.Add($"{S}:RunDirectory and {S}:LogDirectory must be absolute paths.");
        }

        if (options.RunDirectory.TrimEnd('/').Length <= 1)
        {
            failures.Add($"{S}:RunDirectory cannot be the root directory.");
        }

        // A vhost-user socket path is the run directory plus a port name of up to 15 characters,
        // and UNIX socket paths are limited to 108 bytes.
        if (options.RunDirectory.Length >= 80)
        {
            failures.Add($"{S}:RunDirectory must be short: UNIX socket paths are limited to 108 bytes.");
        }

        if (!OvsName.IsValid(options.Bridge))
        {
            failures.Add($"{S}:Bridge must match [a-z0-9-]{{1,15}}.");
        }

        if (!CpuMask().IsMatch(options.DpdkLcoreMask) || !CpuMask().IsMatch(options.PmdCpuMask))
        {
            failures.Add($"{S}:DpdkLcoreMask and {S}:PmdCpuMask must be hex like 0x2.");
        }

        if (options.PmdMaxSleepMicroseconds is < 0 or > 10_000)
        {
            failures.Add($"{S}:PmdMaxSleepMicroseconds must be between 0 and 10000.");
        }

        if (!SocketMem().IsMatch(options.DpdkSocketMem))
        {
            failures.Add($"{S}:DpdkSocketMem must be MiB per NUMA node, like 256 or 256,256.");
        }

        if (options.DpdkSocketLimit.Length > 0 && !SocketMem().IsMatch(options.DpdkSocketLimit))
        {
            failures.Add($"{S}:DpdkSocketLimit must be empty or MiB per NUMA node, like 512 or 512,512.");
        }

        if (options.DpdkExtraArguments.Any(char.IsControl))
        {
            failures.Add($"{S}:DpdkExtraArguments cannot contain control characters.");
        }

        if (options.NetworkNamespace.Length > 0 && !NamespaceName().IsMatch(options.NetworkNamespace))
        {
            failures.Add($"{S}:NetworkNamespace must match [a-z0-9-]{{1,32}}.");
        }

        if (options.StartTimeout <= TimeSpan.Zero || options.DpdkInitTimeout <= TimeSpan.Zero || options.CommandTimeout < TimeSpan.FromSeconds(2) || options.StopTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{S} timeouts must be positive ({S}:CommandTimeout at least 2 s).");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }

    [GeneratedRegex(@"^[a-z0-9-]{1,32}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamespaceName();

    [GeneratedRegex(@"^0x[0-9a-fA-F]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex CpuMask();

    [GeneratedRegex(@"^[0-9]{1,7}(,[0-9]{1,7}){0,15}\z", RegexOptions.CultureInvariant)]
    private static partial Regex SocketMem();
}
