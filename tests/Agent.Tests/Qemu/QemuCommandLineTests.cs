using Ferry.Agent.Qemu;

namespace Ferry.Agent.Tests.Qemu;

[Trait("Tier", "fast")]
public sealed class QemuCommandLineTests
{
    private static readonly QemuLauncherOptions Options = new()
    {
        RunDirectory = "/run/ferry/qemu",
        TmpfsDirectory = "/dev/shm",
        HugetlbfsDirectory = "/dev/hugepages",
    };

    private static IReadOnlyList<string> Build(QemuGuestSpec spec, Accelerator accelerator = Accelerator.Kvm, QemuLauncherOptions? options = null)
    {
        options ??= Options;
        return QemuCommandLine.Build(spec, QemuInstanceLayout.For(options, spec), accelerator, options);
    }

    private static string ValueOf(IReadOnlyList<string> argv, string option, string startsWith = "")
    {
        for (var i = 0; i < argv.Count - 1; i++)
        {
            if (argv[i] == option && argv[i + 1].StartsWith(startsWith, StringComparison.Ordinal))
            {
                return argv[i + 1];
            }
        }

        throw new Xunit.Sdk.XunitException($"{option} {startsWith}… not in [{string.Join(' ', argv)}]");
    }

    [Theory]
    [InlineData("a,b")]
    [InlineData("..")]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("a\0b")]
    [InlineData("Guest")]
    [InlineData("gu est")]
    [InlineData("")]
    [InlineData("x-ignore-shared=on,")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void Hostile_or_malformed_names_are_rejected_before_any_argument_is_built(string name)
    {
        Assert.Throws<ArgumentException>(() => Build(new QemuGuestSpec(name, "inst", 64)));
        Assert.Throws<ArgumentException>(() => Build(new QemuGuestSpec("guest", name, 64)));
        Assert.Throws<ArgumentException>(() => Build(new QemuGuestSpec("guest", "inst", 64, VhostUserPorts: [name])));
    }

    [Fact]
    public void A_63_character_lower_case_name_is_accepted()
    {
        var name = new string('a', 62) + "9";

        var argv = Build(new QemuGuestSpec(name, name, 64));

        Assert.Contains($"guest={name},debug-threads=on", argv);
    }

    [Fact]
    public void Commas_in_option_values_are_doubled_so_they_cannot_start_a_new_option()
    {
        Assert.Equal("/tmp/a,,share=off", QemuCommandLine.Escape("/tmp/a,share=off"));
        Assert.Equal("plain", QemuCommandLine.Escape("plain"));
        Assert.Throws<ArgumentException>(() => QemuCommandLine.Escape("a\0b"));
    }

    [Fact]
    public void Roots_containing_commas_are_escaped_in_every_path_option()
    {
        var options = Options with { RunDirectory = "/run/a,b", TmpfsDirectory = "/shm/x,prealloc=off" };

        var argv = Build(new QemuGuestSpec("guest", "inst", 64, BootDisk: new byte[512]), options: options);

        Assert.Equal("memory-backend-file,id=ram0,mem-path=/shm/x,,prealloc=off/ferry-inst.ram,size=64M,share=on,prealloc=on", ValueOf(argv, "-object"));
        Assert.Equal("socket,id=qmp0,path=/run/a,,b/inst/qmp.sock,server=on,wait=off", ValueOf(argv, "-chardev", "socket,id=qmp0"));
        Assert.Equal("file,id=serial0,path=/run/a,,b/inst/serial.log", ValueOf(argv, "-chardev", "file,"));
        Assert.Equal("file=/run/a,,b/inst.user/boot.img,format=raw,if=ide,index=0,media=disk", ValueOf(argv, "-drive"));
    }

    [Fact]
    public void Ram_is_a_shared_preallocated_file_on_tmpfs_used_as_the_machines_memory_backend()
    {
        var argv = Build(new QemuGuestSpec("guest", "inst", 256));

        Assert.Equal("memory-backend-file,id=ram0,mem-path=/dev/shm/ferry-inst.ram,size=256M,share=on,prealloc=on", ValueOf(argv, "-object"));
        Assert.Equal("pc-i440fx-7.2,memory-backend=ram0", ValueOf(argv, "-machine"));
        Assert.Equal("256M", ValueOf(argv, "-m"));
    }

    [Fact]
    public void The_guest_gets_the_vcpus_its_spec_asks_for_and_one_by_default()
    {
        Assert.Equal("1", ValueOf(Build(new QemuGuestSpec("guest", "inst", 64)), "-smp"));
        Assert.Equal("4", ValueOf(Build(new QemuGuestSpec("guest", "inst", 64, Vcpus: 4)), "-smp"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Build(new QemuGuestSpec("guest", "inst", 64, Vcpus: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Build(new QemuGuestSpec("guest", "inst", 64, Vcpus: Domain.Guests.Guest.MaxVcpus + 1)));
    }

    [Fact]
    public void Hugetlbfs_backing_puts_the_ram_file_under_the_hugetlbfs_root()
    {
        var spec = new QemuGuestSpec("guest", "inst", 256, MemoryBacking.Hugetlbfs);

        Assert.Equal("/dev/hugepages/ferry-inst.ram", QemuInstanceLayout.For(Options, spec).RamFile);
        Assert.Contains("mem-path=/dev/hugepages/ferry-inst.ram", ValueOf(Build(spec), "-object"), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_path_derives_from_the_instance_name_under_the_fixed_roots()
    {
        var layout = QemuInstanceLayout.For(Options, new QemuGuestSpec("guest", "vm-7", 64));

        Assert.Equal("/run/ferry/qemu/vm-7", layout.Directory);
        Assert.Equal("/run/ferry/qemu/vm-7/qmp.sock", layout.QmpSocket);
        Assert.Equal("/run/ferry/qemu/vm-7/serial.log", layout.SerialLog);
        Assert.Equal("/dev/shm/ferry-vm-7.ram", layout.RamFile);
    }

    [Fact]
    public void Kvm_uses_qemus_default_cpu_model_and_tcg_is_selected_explicitly()
    {
        var kvm = Build(new QemuGuestSpec("guest", "inst", 64), Accelerator.Kvm);
        var tcg = Build(new QemuGuestSpec("guest", "inst", 64), Accelerator.Tcg);

        Assert.Equal("kvm", ValueOf(kvm, "-accel"));
        Assert.Equal("tcg", ValueOf(tcg, "-accel"));
        Assert.DoesNotContain("-cpu", kvm);
        Assert.DoesNotContain("-cpu", tcg);
    }

    [Fact]
    public void The_guest_runs_headless_with_qmp_on_a_unix_socket_and_the_serial_port_in_a_file()
    {
        var argv = Build(new QemuGuestSpec("guest", "inst", 64));

        Assert.Equal("none", ValueOf(argv, "-display"));
        Assert.Equal("chardev=qmp0,mode=control", ValueOf(argv, "-mon"));
        Assert.Equal("chardev:serial0", ValueOf(argv, "-serial"));
        Assert.Contains("-nodefaults", argv);
        Assert.DoesNotContain("-incoming", argv);
        Assert.DoesNotContain("-drive", argv);
    }

    [Fact]
    public void A_migration_target_waits_for_migrate_incoming()
    {
        var argv = Build(new QemuGuestSpec("guest", "inst", 64, Incoming: true));

        Assert.Equal("defer", ValueOf(argv, "-incoming"));
    }

    [Fact]
    public void Vhost_user_ports_become_a_chardev_a_netdev_and_a_virtio_nic_each_without_an_option_rom_and_with_msix_off_under_tcg()
    {
        var spec = new QemuGuestSpec("guest", "inst", 64, VhostUserPorts: ["vhu-a", "vhu-b"]);

        var tcg = Build(spec, Accelerator.Tcg);
        var kvm = Build(spec, Accelerator.Kvm);

        Assert.Equal("socket,id=char-vhu-a,path=/run/ferry/qemu/inst/vhu-a,server=on,wait=off", ValueOf(tcg, "-chardev", "socket,id=char-vhu-a"));
        Assert.Equal("vhost-user,id=net-vhu-b,chardev=char-vhu-b,vhostforce=on", ValueOf(tcg, "-netdev", "vhost-user,id=net-vhu-b"));
        var nic = ValueOf(tcg, "-device", "virtio-net-pci,id=nic-vhu-a");
        Assert.EndsWith(",vectors=0", nic, StringComparison.Ordinal);
        Assert.Contains(",guest_announce=off", nic, StringComparison.Ordinal);
        Assert.Contains(",romfile=,", nic, StringComparison.Ordinal);
        Assert.Contains($"mac={QemuCommandLine.MacAddress("guest", 0)}", nic, StringComparison.Ordinal);
        Assert.DoesNotContain("vectors", ValueOf(kvm, "-device", "virtio-net-pci,id=nic-vhu-a"), StringComparison.Ordinal);
    }

    [Fact]
    public void Nic_mac_addresses_depend_on_the_guest_not_the_instance_so_source_and_target_agree()
    {
        var source = Build(new QemuGuestSpec("guest", "src", 64, VhostUserPorts: ["p1"]));
        var target = Build(new QemuGuestSpec("guest", "dst", 64, VhostUserPorts: ["p2"]));

        var mac = QemuCommandLine.MacAddress("guest", 0);
        Assert.Matches("^52:54:00(:[0-9a-f]{2}){3}$", mac);
        Assert.NotEqual(mac, QemuCommandLine.MacAddress("guest", 1));
        Assert.Contains($"mac={mac}", ValueOf(source, "-device"), StringComparison.Ordinal);
        Assert.Contains($"mac={mac}", ValueOf(target, "-device"), StringComparison.Ordinal);
    }

    [Fact]
    public void Absurd_memory_sizes_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Build(new QemuGuestSpec("guest", "inst", 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Build(new QemuGuestSpec("guest", "inst", -5)));
    }

    [Fact]
    public void A_kernel_boot_passes_kernel_initrd_and_command_line_as_separate_arguments()
    {
        var spec = new QemuGuestSpec("fwd", "fwd", 128, Kernel: new KernelBoot("/img/vmlinuz", "/img/initrd", "console=ttyS0 quiet panic=-1"));

        var argv = Build(spec, Accelerator.Tcg);

        Assert.Equal("/img/vmlinuz", ValueOf(argv, "-kernel"));
        Assert.Equal("/img/initrd", ValueOf(argv, "-initrd"));
        Assert.Equal("console=ttyS0 quiet panic=-1", ValueOf(argv, "-append"));
    }

    [Theory]
    [InlineData("/img/a,b", "console=ttyS0")]
    [InlineData("img/vmlinuz", "console=ttyS0")]
    [InlineData("/img/vmlinuz", "console=ttyS0\ninit=/bin/sh")]
    [InlineData("/img/vmlinuz", "console=ttyS0\0")]
    public void A_kernel_boot_with_a_relative_or_comma_path_or_a_control_character_is_refused(string kernel, string commandLine)
    {
        var spec = new QemuGuestSpec("fwd", "fwd", 128, Kernel: new KernelBoot(kernel, "/img/initrd", commandLine));

        Assert.Throws<ArgumentException>(() => Build(spec, Accelerator.Tcg));
    }
}
