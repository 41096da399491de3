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
            Path.Combine(directory, "boot.img"),
            Path.Combine(memoryRoot, $"ferry-{instance}.ram"));
    }
}
