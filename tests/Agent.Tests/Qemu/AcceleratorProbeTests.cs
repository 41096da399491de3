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
}
