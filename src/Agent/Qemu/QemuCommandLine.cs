using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Ferry.Agent.Qemu;

/// <summary>
/// Builds QEMU's argument vector. The result is passed to the kernel as an array, never through a
/// shell; option values go through <see cref="Escape"/> because QEMU splits option strings on commas.
/// </summary>
public static class QemuCommandLine
{
    public static IReadOnlyList<string> Build(QemuGuestSpec spec, QemuInstanceLayout layout, Accelerator accelerator, QemuLauncherOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(options);
        var guest = ResourceName.Validate(spec.Guest, "guest");
        ResourceName.Validate(spec.Instance, "instance");
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.MemoryMiB, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(spec.MemoryMiB, 1024 * 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.Vcpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(spec.Vcpus, Domain.Guests.Guest.MaxVcpus);
        var memory = spec.MemoryMiB.ToString(CultureInfo.InvariantCulture);

        var args = new List<string>
        {
            "-name", $"guest={guest},debug-threads=on",
            "-nodefaults",
            "-no-user-config",
            "-display", "none",
            "-accel", accelerator == Accelerator.Kvm ? "kvm" : "tcg",
            "-machine", $"{Escape(options.MachineType)},memory-backend=ram0",
            "-smp", spec.Vcpus.ToString(CultureInfo.InvariantCulture),
            "-m", $"{memory}M",

            // A shared file mapping so vhost-user backends and the native engine see the same pages.
            "-object", $"memory-backend-file,id=ram0,mem-path={Escape(layout.RamFile)},size={memory}M,share=on,prealloc=on",
            "-chardev", $"socket,id=qmp0,path={Escape(layout.QmpSocket)},server=on,wait=off",
            "-mon", "chardev=qmp0,mode=control",
            "-chardev", $"socket,id=qmp1,path={Escape(layout.OperatorQmpSocket)},server=on,wait=off",
            "-mon", "chardev=qmp1,mode=control",
            "-chardev", $"file,id=serial0,path={Escape(layout.SerialLog)}",
            "-serial", "chardev:serial0",
        };

        if (options.Sandbox)
        {
            // QEMU 7.2 installs its filter before it drops to the -runas user, so with -runas setuid must stay
            // allowed (elevateprivileges=deny then dies of SIGSYS, checked here); once dropped, an unprivileged
            // process cannot take root back anyway.
            var privileges = options.RunAs.Length > 0 ? "allow" : "deny";
            args.AddRange(["-sandbox", $"on,obsolete=deny,elevateprivileges={privileges},spawn=deny,resourcecontrol=deny"]);
        }

        if (options.RunAs.Length > 0)
        {
            args.AddRange(["-runas", ResourceName.Validate(options.RunAs, "Ferry:Qemu:RunAs")]);
        }

        if (spec.BootDisk is not null)
        {
            args.Add("-drive");
            args.Add($"file={Escape(layout.BootDisk)},format=raw,if=ide,index=0,media=disk");
        }

        if (spec.Kernel is { } kernel)
        {
            // -kernel, -initrd and -append are plain strings, not comma-separated option lists.
            kernel.Validate();
            args.AddRange(["-kernel", kernel.Kernel, "-initrd", kernel.Initrd, "-append", kernel.CommandLine]);
        }

        var ports = spec.VhostUserPorts ?? [];
        for (var i = 0; i < ports.Count; i++)
        {
            var port = ResourceName.Validate(ports[i], "port");
            var socket = spec.VhostUserSocketDirectory is { } directory ? Path.Combine(directory, port) : layout.VhostUserSocket(port);
            args.Add("-chardev");

            // QEMU listens and OVS connects (dpdkvhostuserclient, which OVS's documentation recommends over the
            // deprecated dpdkvhostuser). QEMU creates the socket at start, before it drops to Ferry:Qemu:RunAs, and keeps
            // listening on it for its whole life: after an ovs-vswitchd restart OVS (root) reconnects to it. The
            // other way round QEMU would reconnect as the dropped user to a socket the new ovs-vswitchd made as
            // root, and may not. QEMU's vhost-user netdev still waits at start until OVS connected (OVS retries
            // every second), so a port's backend exists before the guest runs or a migration arrives.
            args.Add($"socket,id=char-{port},path={Escape(socket)},server=on,wait=off");
            args.Add("-netdev");
            args.Add($"vhost-user,id=net-{port},chardev=char-{port},vhostforce=on");
            args.Add("-device");

            // Under TCG QEMU 7.2 segfaults in vhost_net_start when the NIC uses MSI-X.
            var vectors = accelerator == Accelerator.Tcg ? ",vectors=0" : string.Empty;

            // After a migration the fabric must learn where the guest is now. With guest_announce off QEMU has
            // the vhost-user backend (OVS-DPDK) send a RARP from each NIC's MAC as soon as the guest runs, whatever
            // the guest does; left on, only a guest with IP addresses announces itself (gratuitous ARP), and an
            // L2 VNF has none. No option ROM: nothing here boots from the network, and the firmware running
            // iPXE is what failed under kvm_pvm's KVM ("KVM internal error ... emulation failure" at an iret in
            // iPXE's real-mode trampoline, the idle lab guest in internal-error before any migration).
            args.Add($"virtio-net-pci,id=nic-{port},netdev=net-{port},mac={MacAddress(guest, i)},guest_announce=off,romfile={vectors}");
        }

        if (spec.Incoming)
        {
            args.Add("-incoming");
            args.Add("defer");
        }

        return args;
    }

    /// <summary>Escapes an option value for QEMU's option parser, which reads ",," as a literal comma.</summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("Option values cannot contain NUL.", nameof(value));
        }

        return value.Replace(",", ",,", StringComparison.Ordinal);
    }

    /// <summary>A locally administered MAC derived from the guest name, so source and target NICs match.</summary>
    public static string MacAddress(string guest, int nicIndex)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{guest}/{nicIndex.ToString(CultureInfo.InvariantCulture)}"));
        return string.Create(CultureInfo.InvariantCulture, $"52:54:00:{hash[0]:x2}:{hash[1]:x2}:{hash[2]:x2}");
    }
}
