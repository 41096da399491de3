namespace Ferry.Agent.Ovs;

/// <summary>
/// Whether any PCI NIC is bound to a driver DPDK can use. Without one, DPDK's PCI scan only finds
/// devices it cannot drive (and may probe virtio devices the kernel uses), so the switch passes
/// <c>--no-pci</c>: its ports are then vhost-user only.
/// </summary>
internal static class DpdkNicProbe
{
    private static readonly string[] DpdkDrivers = ["vfio-pci", "uio_pci_generic", "igb_uio"];

    public static bool AnyBound(string pciDriversDirectory = "/sys/bus/pci/drivers") =>
        DpdkDrivers
            .Select(driver => Path.Combine(pciDriversDirectory, driver))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFileSystemEntries)

            // Bound devices appear as links named by PCI address (0000:00:04.0); the rest are bind/unbind/new_id files.
            .Any(entry => Path.GetFileName(entry).Count(c => c == ':') == 2);
}
