namespace Ferry.Agent.TestGuest;

/// <summary>The guests Ferry can run without a downloaded image (the forwarder's is built from Debian packages by a script).</summary>
public enum TestGuestProfile
{
    /// <summary>No boot device: the BIOS finds nothing and idles; RAM stays almost all zero.</summary>
    Idle,

    /// <summary>A boot sector that forever increments one byte per 4 KiB page (<see cref="PageCounterBootSector"/>).</summary>
    PageCounter,

    /// <summary>
    /// The L2-forwarding guest of <c>scripts/forwarding-guest</c>: a Debian kernel and a busybox initramfs
    /// that forward every frame between its two vhost-user NICs. Booted from the image directory in
    /// <c>Ferry:Qemu:ForwardingGuestImage</c>; ready once its console says <c>ferry-forwarder: ready</c>.
    /// </summary>
    Forwarder,
}
