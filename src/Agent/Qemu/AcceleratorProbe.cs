namespace Ferry.Agent.Qemu;

/// <summary>
/// Picks KVM when the KVM device can be opened read-write, TCG otherwise. Opening the device is
/// what QEMU does first, so it is the honest test; the default CPU model is used because
/// <c>-cpu host</c> aborts under nested KVM here.
/// </summary>
public static class AcceleratorProbe
{
    public const string DefaultKvmDevice = "/dev/kvm";

    public static AcceleratorChoice Probe(string kvmDevice = DefaultKvmDevice)
    {
        try
        {
            using var device = File.Open(kvmDevice, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            return new AcceleratorChoice(Accelerator.Kvm, $"{kvmDevice} opened read-write");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new AcceleratorChoice(Accelerator.Tcg, $"{kvmDevice} unusable ({ex.GetType().Name}: {ex.Message}); falling back to TCG");
        }
    }
}
