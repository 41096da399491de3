using System.IO.Compression;
using System.Text.RegularExpressions;
using Ferry.Agent.Inventory;
using Ferry.Testing;
using Ferry.Transfer.Dirty;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ferry.Agent.Tests.Inventory;

/// <summary>The inventory of the machine the tests run on, checked against what the kernel and the programs say directly.</summary>
[Trait("Tier", "fast")]
public sealed partial class HostInventoryTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static Task<HostInventory> CollectAsync(InventoryOptions? options = null) =>
        new LinuxHostInventory(options ?? new InventoryOptions(), null, TimeProvider.System, NullLogger<LinuxHostInventory>.Instance).CollectAsync(Cancel);

    [Fact]
    public async Task The_inventory_has_the_cpu_model_and_flags_of_proc_cpuinfo()
    {
        var inventory = await CollectAsync();

        var cpuinfo = await File.ReadAllTextAsync("/proc/cpuinfo", Cancel);
        Assert.NotEqual("unknown", inventory.CpuModel);
        Assert.Contains($"model name\t: {inventory.CpuModel}\n", cpuinfo, StringComparison.Ordinal);
        Assert.NotEmpty(inventory.CpuFlags);
        Assert.All(inventory.CpuFlags, flag => Assert.Matches(@"\A[a-z0-9_.]+\z", flag));
        Assert.Equal(Regex.Matches(cpuinfo, @"^processor\s*:", RegexOptions.Multiline).Count, inventory.CpuCount);
        Assert.Equal(inventory.CpuFlags.Order(StringComparer.Ordinal).Distinct(), inventory.CpuFlags);
    }

    [Fact]
    public async Task The_inventory_reports_memory_no_larger_than_the_total()
    {
        var inventory = await CollectAsync();

        Assert.True(inventory.MemoryTotalMiB > 0);
        Assert.InRange(inventory.MemoryFreeMiB, 1, inventory.MemoryTotalMiB);
        Assert.InRange(inventory.MemoryAvailableMiB, 1, inventory.MemoryTotalMiB);
    }

    [Fact]
    public async Task The_hugepage_pools_are_the_ones_sysfs_lists()
    {
        var inventory = await CollectAsync();

        var sysfs = Directory.GetDirectories("/sys/kernel/mm/hugepages")
            .Select(d => long.Parse(Path.GetFileName(d)[10..^2], System.Globalization.CultureInfo.InvariantCulture))
            .Order()
            .ToList();
        Assert.Equal(sysfs, inventory.Hugepages.Select(p => p.PageSizeKiB));
        Assert.All(inventory.Hugepages, pool =>
        {
            var directory = $"/sys/kernel/mm/hugepages/hugepages-{pool.PageSizeKiB}kB";
            Assert.Equal(File.ReadAllText(Path.Combine(directory, "nr_hugepages")).Trim(), pool.Total.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.InRange(pool.Free, 0, pool.Total);
        });
    }

    [Fact]
    public async Task The_qemu_version_is_the_one_qemu_reports()
    {
        var inventory = await CollectAsync();

        var output = await RunAsync("qemu-system-x86_64", "--version");
        Assert.NotNull(inventory.Qemu.Version);
        Assert.StartsWith($"QEMU emulator version {inventory.Qemu.Version}", output, StringComparison.Ordinal);
        Assert.Equal(output.Split('\n')[0].Trim(), inventory.Qemu.Detail);
    }

    [Fact]
    public async Task A_missing_qemu_yields_no_version_and_says_why()
    {
        var inventory = await CollectAsync(new InventoryOptions { QemuBinary = "/nonexistent/qemu-system-x86_64" });

        Assert.Null(inventory.Qemu.Version);
        Assert.Contains("/nonexistent/qemu-system-x86_64", inventory.Qemu.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_ovs_version_is_that_of_the_dpdk_build_of_ovs_vswitchd()
    {
        var options = new InventoryOptions();
        if (!File.Exists(options.VswitchdBinary))
        {
            Assert.Skip($"{options.VswitchdBinary} is not installed (apt-get install openvswitch-switch-dpdk)");
        }

        var inventory = await CollectAsync(options);

        var output = await RunAsync(options.VswitchdBinary, "--version");
        Assert.Contains($"(Open vSwitch) {inventory.Ovs.Version}\n", output, StringComparison.Ordinal);
        Assert.NotNull(inventory.Ovs.DpdkBuildVersion);
        Assert.Contains($"DPDK {inventory.Ovs.DpdkBuildVersion}", output, StringComparison.Ordinal);
        Assert.Null(inventory.Ovs.Switch);
    }

    [Fact]
    public async Task Kvm_is_reported_usable_exactly_when_the_kvm_device_opens_read_write()
    {
        var inventory = await CollectAsync();

        bool opens;
        try
        {
            using var device = File.Open("/dev/kvm", FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            opens = true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            opens = false;
        }

        TestContext.Current.SendDiagnosticMessage($"kvm: {inventory.Kvm}");
        Assert.Equal(opens, inventory.Kvm.Available);
        Assert.Contains("/dev/kvm", inventory.Kvm.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Soft_dirty_is_available_exactly_when_the_kernel_is_built_with_it()
    {
        var config = await ReadKernelConfigAsync();

        var softDirty = (await CollectAsync()).DirtyTrackers.Single(t => t.Kind == DirtyTrackerKind.SoftDirty);

        TestContext.Current.SendDiagnosticMessage($"{softDirty}");
        var built = config.Contains("\nCONFIG_MEM_SOFT_DIRTY=y\n", StringComparison.Ordinal);
        Assert.Equal(built, softDirty.Available);
        if (!built)
        {
            Assert.Contains("CONFIG_MEM_SOFT_DIRTY", softDirty.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Userfaultfd_write_protect_is_available_exactly_on_kernels_from_6_7_with_userfaultfd()
    {
        var config = await ReadKernelConfigAsync();
        var release = (await File.ReadAllTextAsync("/proc/sys/kernel/osrelease", Cancel)).Trim();
        var version = KernelVersion().Match(release);
        var atLeast67 = (int.Parse(version.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(version.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)) is var (major, minor)
            && (major > 6 || (major == 6 && minor >= 7));

        var inventory = await CollectAsync();
        var uffd = inventory.DirtyTrackers.Single(t => t.Kind == DirtyTrackerKind.UserfaultfdWriteProtect);

        TestContext.Current.SendDiagnosticMessage($"kernel {release}: {uffd}");
        Assert.Equal(release, inventory.KernelRelease);
        Assert.Equal(atLeast67 && config.Contains("\nCONFIG_USERFAULTFD=y\n", StringComparison.Ordinal), uffd.Available);
        Assert.NotEmpty(uffd.Reason);
    }

    [Fact]
    public async Task The_dirty_tracking_list_names_exactly_the_available_trackers()
    {
        var inventory = await CollectAsync();

        Assert.Equal([DirtyTrackerNames.UserfaultfdWriteProtect, DirtyTrackerNames.SoftDirty], inventory.DirtyTrackers.Select(DirtyTrackerNames.Of));
        Assert.Equal(inventory.DirtyTrackers.Where(t => t.Available).Select(DirtyTrackerNames.Of), inventory.DirtyTracking);
    }

    private static async Task<string> ReadKernelConfigAsync()
    {
        if (File.Exists("/proc/config.gz"))
        {
            await using var gzip = new GZipStream(File.OpenRead("/proc/config.gz"), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip);
            return "\n" + await reader.ReadToEndAsync(Cancel);
        }

        var boot = $"/boot/config-{(await File.ReadAllTextAsync("/proc/sys/kernel/osrelease", Cancel)).Trim()}";
        if (File.Exists(boot))
        {
            return "\n" + await File.ReadAllTextAsync(boot, Cancel);
        }

        Assert.Skip("The kernel configuration is not readable (no /proc/config.gz or /boot/config-*), so the probe has nothing to be checked against.");
        return string.Empty;
    }

    private static async Task<string> RunAsync(string binary, string argument) =>
        (await Programs.RunAsync(binary, [argument], cancellationToken: Cancel)).Output;

    [GeneratedRegex(@"^(\d+)\.(\d+)")]
    private static partial Regex KernelVersion();
}
