using Ferry.Agent.Qemu;
using Ferry.Agent.Tests.Support;

namespace Ferry.Agent.Tests.Qemu;

public sealed class AcceleratorProbeTests
{
    [Fact]
    public void A_missing_kvm_device_falls_back_to_tcg_and_says_why()
    {
        using var directory = new TestDirectory();

        var choice = AcceleratorProbe.Probe(directory.File("kvm"));

        Assert.Equal(Accelerator.Tcg, choice.Accelerator);
        Assert.Contains("TCG", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_that_opens_read_write_selects_kvm()
    {
        using var directory = new TestDirectory();
        File.WriteAllBytes(directory.File("kvm"), []);

        Assert.Equal(Accelerator.Kvm, AcceleratorProbe.Probe(directory.File("kvm")).Accelerator);
    }

    [Fact]
    public void A_kernel_that_does_not_boot_under_kvm_runs_linux_guests_under_tcg_and_the_verdict_is_kept_for_this_boot()
    {
        Assert.SkipUnless(AcceleratorProbe.Probe().Accelerator == Accelerator.Kvm, "no usable /dev/kvm here: the Linux boot probe runs only where KVM opens");
        using var directory = new TestDirectory();
        var kernel = directory.File("vmlinuz");
        File.WriteAllBytes(kernel, new byte[64 * 1024]);
        var options = new QemuLauncherOptions { ProbeCacheDirectory = directory.Path, LinuxKvmProbeTimeout = TimeSpan.FromSeconds(5) };

        var choice = LinuxBootProbe.Probe(options, kernel);
        var again = LinuxBootProbe.Probe(options, kernel);

        Assert.Equal(Accelerator.Tcg, choice.Accelerator);
        Assert.Contains("Linux guests run under TCG", choice.Reason, StringComparison.Ordinal);
        Assert.Equal(Accelerator.Tcg, again.Accelerator);
        Assert.Contains("probed earlier on this boot", again.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_usable_kvm_device_both_kinds_of_guest_run_under_tcg_without_a_boot_probe()
    {
        using var directory = new TestDirectory();
        var options = new QemuLauncherOptions { KvmDevice = directory.File("kvm"), ForwardingGuestImage = directory.Path, ProbeCacheDirectory = directory.Path };
        File.WriteAllBytes(directory.File("vmlinuz"), []);
        var launcher = new QemuLauncher(options, new Ferry.Agent.Qmp.QmpConnector(new Ferry.Agent.Qmp.QmpClientOptions(), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

        Assert.Equal(Accelerator.Tcg, launcher.AcceleratorFor(GuestKind.Firmware).Accelerator);
        Assert.Equal(Accelerator.Tcg, launcher.AcceleratorFor(GuestKind.Linux).Accelerator);
        Assert.False(File.Exists(directory.File("linux-kvm-probe.json")));
    }
}
