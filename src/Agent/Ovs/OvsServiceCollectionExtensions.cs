using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Ovs;

public static partial class OvsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the OVS-DPDK switch (a singleton: disposing the container on agent stop stops the
    /// daemons it started) with options bound from <c>Ovs</c> and validated on start. The switch is
    /// not started here; the agent calls <see cref="IOvsSwitch.EnsureStartedAsync"/> when it starts.
    /// </summary>
    public static IServiceCollection AddFerryOvs(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<OvsOptions>().BindConfiguration("Ovs")
            .Validate(o => Path.IsPathRooted(o.RunDirectory) && Path.IsPathRooted(o.LogDirectory), "Ovs directories must be absolute.")
            .Validate(o => o.RunDirectory.TrimEnd('/').Length > 1, "Ovs:RunDirectory cannot be the root directory.")

            // A vhost-user socket path is the run directory plus a port name of up to 15 characters,
            // and UNIX socket paths are limited to 108 bytes.
            .Validate(o => o.RunDirectory.Length < 80, "Ovs:RunDirectory must be short: UNIX socket paths are limited to 108 bytes.")
            .Validate(o => OvsName.IsValid(o.Bridge), "Ovs:Bridge must match [a-z0-9-]{1,15}.")
            .Validate(o => CpuMask().IsMatch(o.DpdkLcoreMask) && CpuMask().IsMatch(o.PmdCpuMask), "Ovs CPU masks must be hex like 0x2.")
            .Validate(o => o.PmdMaxSleepMicroseconds is >= 0 and <= 10_000, "Ovs:PmdMaxSleepMicroseconds must be between 0 and 10000.")
            .Validate(o => SocketMem().IsMatch(o.DpdkSocketMem), "Ovs:DpdkSocketMem must be MiB per NUMA node, like 256 or 256,256.")
            .Validate(o => o.DpdkSocketLimit.Length == 0 || SocketMem().IsMatch(o.DpdkSocketLimit), "Ovs:DpdkSocketLimit must be empty or MiB per NUMA node, like 512 or 512,512.")
            .Validate(o => !o.DpdkExtraArguments.Any(char.IsControl), "Ovs:DpdkExtraArguments cannot contain control characters.")
            .Validate(o => o.NetworkNamespace.Length == 0 || NamespaceName().IsMatch(o.NetworkNamespace), "Ovs:NetworkNamespace must match [a-z0-9-]{1,32}.")
            .Validate(
                o => o.StartTimeout > TimeSpan.Zero && o.DpdkInitTimeout > TimeSpan.Zero && o.CommandTimeout >= TimeSpan.FromSeconds(2) && o.StopTimeout > TimeSpan.Zero,
                "Ovs timeouts must be positive (CommandTimeout at least 2 s).")
            .ValidateOnStart();
        services.TryAddSingleton<IOvsSwitch>(sp => new OvsSwitch(
            sp.GetRequiredService<IOptions<OvsOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OvsSwitch>>()));
        return services;
    }

    [GeneratedRegex(@"^[a-z0-9-]{1,32}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamespaceName();

    [GeneratedRegex(@"^0x[0-9a-fA-F]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex CpuMask();

    [GeneratedRegex(@"^[0-9]{1,7}(,[0-9]{1,7}){0,15}\z", RegexOptions.CultureInvariant)]
    private static partial Regex SocketMem();
}
