using System.Globalization;
using System.Text.RegularExpressions;
using Ferry.Agent.Ovs;
using Ferry.Agent.Qemu;
using Ferry.Domain.Hosts;
using Ferry.Transfer.Dirty;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Inventory;

internal sealed partial class LinuxHostInventory : IHostInventory
{
    private readonly InventoryOptions _options;
    private readonly IOvsSwitch? _switch;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public LinuxHostInventory(InventoryOptions options, IOvsSwitch? ovsSwitch, TimeProvider timeProvider, ILogger<LinuxHostInventory> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _switch = ovsSwitch;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public async Task<HostInventory> CollectAsync(CancellationToken cancellationToken = default)
    {
        var cpu = CpuDescription.Parse(await File.ReadAllTextAsync("/proc/cpuinfo", cancellationToken));
        var memory = MemorySummary.Parse(await File.ReadAllTextAsync("/proc/meminfo", cancellationToken));
        var accelerator = AcceleratorProbe.Probe(_options.KvmDevice);
        var qemu = await QemuVersionAsync(cancellationToken);
        var ovs = await OvsAsync(cancellationToken);
        var inventory = new HostInventory
        {
            CpuModel = cpu.Model,
            CpuFlags = cpu.Flags,
            CpuCount = cpu.Count,
            Kvm = new HostProbe(accelerator.Accelerator == Accelerator.Kvm, accelerator.Reason),
            MemoryTotalMiB = memory.TotalMiB,
            MemoryFreeMiB = memory.FreeMiB,
            MemoryAvailableMiB = memory.AvailableMiB,
            Hugepages = ReadHugepagePools(_options.HugepagesDirectory),
            KernelRelease = (await File.ReadAllTextAsync("/proc/sys/kernel/osrelease", cancellationToken)).Trim(),
            Qemu = qemu,
            Ovs = ovs,
            DirtyTrackers = DirtyTrackerProbe.Kernel(),
        };
        Log.Collected(
            _logger,
            inventory.CpuModel,
            inventory.Kvm.Available,
            inventory.MemoryAvailableMiB,
            string.Join(", ", inventory.Hugepages.Select(p => $"{p.Free}/{p.Total}x{p.PageSizeKiB}kB")),
            qemu.Version ?? "none",
            ovs.Version ?? "none",
            string.Join(", ", inventory.DirtyTracking));
        foreach (var tracker in inventory.DirtyTrackers.Where(t => !t.Available))
        {
            Log.TrackerUnavailable(_logger, DirtyTrackerNames.Of(tracker), tracker.Reason);
        }

        return inventory;
    }

    /// <summary>One pool per <c>hugepages-&lt;size&gt;kB</c> directory; a kernel without hugepages has none.</summary>
    internal static IReadOnlyList<HugepagePool> ReadHugepagePools(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var pools = new List<HugepagePool>();
        foreach (var pool in Directory.EnumerateDirectories(directory, "hugepages-*kB"))
        {
            var size = Path.GetFileName(pool)["hugepages-".Length..^"kB".Length];
            if (long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var sizeKiB))
            {
                pools.Add(new HugepagePool(sizeKiB, ReadCount(Path.Combine(pool, "nr_hugepages")), ReadCount(Path.Combine(pool, "free_hugepages"))));
            }
        }

        return [.. pools.OrderBy(p => p.PageSizeKiB)];
    }

    private static long ReadCount(string path) =>
        long.Parse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);

    private async Task<ToolVersion> QemuVersionAsync(CancellationToken cancellationToken)
    {
        var (output, failure) = await RunVersionAsync(_options.QemuBinary, cancellationToken);
        if (output is null)
        {
            return new ToolVersion(null, failure!);
        }

        var match = QemuVersionPattern().Match(output);
        return new ToolVersion(match.Success ? match.Groups[1].Value : null, FirstLine(output));
    }

    private async Task<OvsInventory> OvsAsync(CancellationToken cancellationToken)
    {
        var (output, failure) = await RunVersionAsync(_options.VswitchdBinary, cancellationToken);
        OvsSwitchStatus? status = null;
        if (_switch is not null)
        {
            try
            {
                status = await _switch.GetStatusAsync(cancellationToken);
            }
            catch (OvsCommandException ex)
            {
                status = new OvsSwitchStatus(false, false, false, null, _switch.Bridge, ex.Message);
            }
        }

        if (output is null)
        {
            return new OvsInventory(null, null, failure!, status);
        }

        var ovs = OvsVersionPattern().Match(output);
        var dpdk = DpdkVersionPattern().Match(output);
        return new OvsInventory(
            ovs.Success ? ovs.Groups[1].Value : null,
            dpdk.Success ? dpdk.Groups[1].Value : null,
            output.Trim().ReplaceLineEndings("; "),
            status);
    }

    private async Task<(string? Output, string? Failure)> RunVersionAsync(string binary, CancellationToken cancellationToken)
    {
        var run = await ChildProcess.RunAsync(new ChildProcessStart(binary, ["--version"]), _options.VersionTimeout, _timeProvider, cancellationToken);
        return run switch
        {
            { Failure: { } failure } => (null, failure),
            { Succeeded: true } => (run.Output, null),
            _ => (null, $"{binary} --version exited with {run.ExitCode}: {FirstLine(run.Error)}"),
        };
    }

    private static string FirstLine(string text) => text.Trim().Split('\n')[0].Trim();

    [GeneratedRegex(@"QEMU emulator version (\d+\.\d+(?:\.\d+)?)", RegexOptions.CultureInvariant)]
    private static partial Regex QemuVersionPattern();

    [GeneratedRegex(@"\(Open vSwitch\) (\d+\.\d+(?:\.\d+)?)", RegexOptions.CultureInvariant)]
    private static partial Regex OvsVersionPattern();

    [GeneratedRegex(@"^DPDK (\d+\.\d+(?:\.\d+)?)", RegexOptions.CultureInvariant | RegexOptions.Multiline)]
    private static partial Regex DpdkVersionPattern();

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.InventoryCollected, Level = LogLevel.Information,
            Message = "Host inventory: CPU {CpuModel}, KVM {Kvm}, {AvailableMiB} MiB available, hugepages {Hugepages}, QEMU {Qemu}, OVS {Ovs}, dirty tracking [{DirtyTracking}]")]
        public static partial void Collected(ILogger logger, string cpuModel, bool kvm, long availableMiB, string hugepages, string qemu, string ovs, string dirtyTracking);

        [LoggerMessage(EventId = AgentEventIds.DirtyTrackerUnavailable, Level = LogLevel.Information, Message = "Dirty tracker {Tracker} unavailable: {Reason}")]
        public static partial void TrackerUnavailable(ILogger logger, string tracker, string reason);
    }
}
