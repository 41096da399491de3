using Ferry.Agent.Qemu;

namespace Ferry.Agent.Guests;

/// <summary>
/// The forwarding guest's files in the directory <c>scripts/forwarding-guest/build.sh</c> wrote them to:
/// <c>vmlinuz</c>, <c>initrd</c> and <c>cmdline</c>. The agent never builds the image; it only boots it.
/// </summary>
public static class ForwardingGuestImage
{
    /// <summary>Reads the image's command line and checks its files.</summary>
    /// <exception cref="QemuLaunchException">No image is configured, or it is incomplete.</exception>
    public static async Task<KernelBoot> LoadAsync(string directory, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(directory))
        {
            throw new QemuLaunchException(
                "This agent cannot run the forwarder profile: Ferry:Qemu:ForwardingGuestImage is not set. " +
                "Build the image with scripts/forwarding-guest/build.sh DIR and set Ferry:Qemu:ForwardingGuestImage to DIR.");
        }

        var kernel = Path.Combine(directory, "vmlinuz");
        var initrd = Path.Combine(directory, "initrd");
        var cmdline = Path.Combine(directory, "cmdline");
        if (new[] { kernel, initrd, cmdline }.FirstOrDefault(f => !File.Exists(f)) is { } missing)
        {
            throw new QemuLaunchException($"The forwarding guest image in {directory} is incomplete ({Path.GetFileName(missing)} is missing); run scripts/forwarding-guest/build.sh {directory}.");
        }

        var commandLine = (await File.ReadAllTextAsync(cmdline, cancellationToken)).Trim();
        try
        {
            return new KernelBoot(kernel, initrd, commandLine).Validate();
        }
        catch (ArgumentException ex)
        {
            throw new QemuLaunchException($"The forwarding guest image in {directory} cannot be booted: {ex.Message}", ex);
        }
    }
}
