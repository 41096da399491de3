using System.Globalization;

namespace Ferry.Agent.Ovs;

/// <summary>
/// The switch-wide row of the OVS database (table <c>Open_vSwitch</c>, record <c>.</c>): the DPDK
/// settings ovs-vswitchd reads when it initialises DPDK, and the columns through which ovs-vswitchd
/// reports its progress (<c>dpdk_initialized</c>, <c>cur_cfg</c>/<c>next_cfg</c>) and its DPDK version.
/// Each method is one ovs-vsctl run through <see cref="OvsCtl"/>; none holds state of its own.
/// </summary>
internal sealed class OvsdbSettings(OvsOptions options, OvsCtl ctl)
{
    /// <summary>
    /// Creates the row on a fresh database (a no-op later). True when ovsdb-server answered: while it
    /// starts, a failure is an answer still to wait for, not an error.
    /// </summary>
    public async Task<bool> TryInitAsync(CancellationToken cancellationToken) =>
        (await ctl.RunVsctlAsync(["--no-wait", "init"], cancellationToken)).Succeeded;

    /// <summary>
    /// Writes the DPDK settings. DPDK reads them once, when ovs-vswitchd initialises it: they must be in
    /// the database before ovs-vswitchd starts.
    /// </summary>
    public Task ApplyDpdkSettingsAsync(CancellationToken cancellationToken) =>
        ctl.VsctlAsync(
            [
                "--no-wait", "set", "Open_vSwitch", ".",
                "other_config:dpdk-init=true",
                $"other_config:dpdk-lcore-mask={OvsCtl.Quote(options.DpdkLcoreMask)}",
                $"other_config:pmd-cpu-mask={OvsCtl.Quote(options.PmdCpuMask)}",
                $"other_config:pmd-maxsleep={options.PmdMaxSleepMicroseconds.ToString(CultureInfo.InvariantCulture)}",
                $"other_config:dpdk-socket-mem={OvsCtl.Quote(options.DpdkSocketMem)}",
                $"other_config:dpdk-socket-limit={OvsCtl.Quote(options.EffectiveDpdkSocketLimit)}",
                $"other_config:dpdk-extra={OvsCtl.Quote(DpdkExtra())}",
            ],
            cancellationToken);

    /// <summary>
    /// Resets the progress columns before an ovs-vswitchd starts. A dead ovs-vswitchd's
    /// <c>dpdk_initialized=true</c> and <c>cur_cfg</c> stay in the database; reset, they tell when the new
    /// one has initialised DPDK and applied the whole configuration (bridge, ports). ovs-vsctl's own wait
    /// does not help here because re-adding an existing bridge changes nothing.
    /// </summary>
    public Task ResetVswitchdProgressAsync(CancellationToken cancellationToken) =>
        ctl.VsctlAsync(["--no-wait", "set", "Open_vSwitch", ".", "dpdk_initialized=false", "cur_cfg=0"], cancellationToken);

    /// <summary>True once ovs-vswitchd has initialised DPDK and applied every configuration change (<c>cur_cfg</c> = <c>next_cfg</c>).</summary>
    public async Task<bool> IsVswitchdReadyAsync(CancellationToken cancellationToken)
    {
        var state = await ctl.RunVsctlAsync(["--no-wait", "get", "Open_vSwitch", ".", "dpdk_initialized", "cur_cfg", "next_cfg"], cancellationToken);
        return state.Succeeded && OvsCtl.Lines(state.Output) is ["true", var current, var next] && current == next;
    }

    /// <summary>Whether DPDK is initialised, and its version (null when the column is empty).</summary>
    public async Task<(bool Initialized, string? Version)> ReadDpdkStateAsync(CancellationToken cancellationToken)
    {
        var lines = OvsCtl.Lines(await ctl.VsctlAsync(["--no-wait", "get", "Open_vSwitch", ".", "dpdk_initialized", "dpdk_version"], cancellationToken));
        var initialized = lines.Length > 0 && lines[0] == "true";
        var version = lines.Length > 1 && lines[1] != "[]" ? lines[1].Trim('"') : null;
        return (initialized, version);
    }

    /// <summary>
    /// Where a switch puts its dpdkvhostuser sockets: <c>other_config:vhost-sock-dir</c> resolved against
    /// its run directory, or the run directory itself when unset. For the host's OVS, whose settings are its own.
    /// </summary>
    public async Task<string> ReadVhostSocketDirectoryAsync(string runDirectory, CancellationToken cancellationToken)
    {
        var sockDir = (await ctl.VsctlAsync(["--no-wait", "--if-exists", "get", "Open_vSwitch", ".", "other_config:vhost-sock-dir"], cancellationToken)).Trim().Trim('"');
        return sockDir.Length == 0 ? runDirectory : Path.GetFullPath(Path.Combine(runDirectory, sockDir));
    }

    /// <summary>
    /// DPDK's extra EAL arguments: <c>--no-pci</c> unless a NIC is bound to a DPDK driver (or the options
    /// say otherwise), <c>--in-memory</c> when asked, then the operator's own.
    /// </summary>
    public string DpdkExtra()
    {
        var noPci = options.DpdkNoPci ?? !DpdkNicProbe.AnyBound();
        var arguments = new List<string>();
        if (noPci)
        {
            arguments.Add("--no-pci");
        }

        if (options.DpdkInMemory)
        {
            arguments.Add("--in-memory");
        }

        if (options.DpdkExtraArguments.Length > 0)
        {
            arguments.Add(options.DpdkExtraArguments);
        }

        return string.Join(' ', arguments);
    }
}
