namespace Ferry.Domain.Hosts;

/// <summary>The accelerator a host's agent runs one kind of guest with, and why (it probes per kind).</summary>
/// <param name="GuestKind"><c>firmware</c> (BIOS and boot-sector guests: idle, page counter) or <c>linux</c> (guests booting a Linux kernel: the forwarder).</param>
/// <param name="Accelerator"><c>kvm</c> or <c>tcg</c>.</param>
/// <param name="Reason">What the probe saw.</param>
public sealed record GuestAccelerator(string GuestKind, string Accelerator, string Reason)
{
    /// <summary>The kind of BIOS and boot-sector guests.</summary>
    public const string Firmware = "firmware";

    /// <summary>The kind of guests that boot a Linux kernel.</summary>
    public const string Linux = "linux";
}
