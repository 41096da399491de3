namespace Ferry.Agent.Qemu;

/// <summary>The files of one QEMU instance, all derived from its validated instance name under fixed roots.</summary>
public sealed record QemuInstanceLayout(
    string Directory,
    string QmpSocket,
    string SerialLog,
    string ProcessLog,
    string BootDisk,
    string RamFile)
{
    /// <summary>
    /// A second QMP monitor for operators and tests. QEMU serves one client per monitor and the
    /// agent holds the first for the guest's whole life; this one lets a person look without
    /// taking the agent's connection away.
    /// </summary>
    public string OperatorQmpSocket => Path.Combine(Directory, "qmp-operator.sock");

    /// <summary>
    /// Files QEMU opens by path after it dropped to <c>Ferry:Qemu:RunAs</c>, owned by that user (0700): the boot
    /// disk. Beside the instance directory, not in it: that one holds the QMP sockets (root-equivalent)
    /// and stays the agent's alone. The dot keeps it apart from instance directories (instance names
    /// have none).
    /// </summary>
    public string UserDirectory => Directory + UserDirectorySuffix;

    /// <summary>What <see cref="UserDirectory"/> adds to the instance directory's name.</summary>
    public const string UserDirectorySuffix = ".user";

    /// <summary>Where QEMU listens for the switch's connection to a vhost-user port (<c>dpdkvhostuserclient</c>): in the instance directory, named after the port (port names have no dot, so no file there clashes).</summary>
    public string VhostUserSocket(string port) => Path.Combine(Directory, port);

    /// <summary>QEMU's argument vector, one argument per line: what ran, for operators and for the next agent after a crash.</summary>
    public string ArgumentsFile => Path.Combine(Directory, "qemu.args");

    public static QemuInstanceLayout For(QemuLauncherOptions options, QemuGuestSpec spec)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(spec);
        var instance = ResourceName.Validate(spec.Instance, "instance");
        var directory = Path.Combine(options.RunDirectory, instance);
        var memoryRoot = spec.Backing == MemoryBacking.Hugetlbfs ? options.HugetlbfsDirectory : options.TmpfsDirectory;
        return new QemuInstanceLayout(
            directory,
            Path.Combine(directory, "qmp.sock"),
            Path.Combine(directory, "serial.log"),
            Path.Combine(directory, "qemu.log"),
            Path.Combine(directory + UserDirectorySuffix, "boot.img"),
            Path.Combine(memoryRoot, $"ferry-{instance}.ram"));
    }
}
