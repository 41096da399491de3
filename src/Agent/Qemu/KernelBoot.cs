namespace Ferry.Agent.Qemu;

/// <summary>
/// A guest booted straight from a kernel and an initramfs (<c>-kernel</c>, <c>-initrd</c>,
/// <c>-append</c>) instead of from a disk, as the forwarding guest is.
/// </summary>
/// <param name="Kernel">Absolute path of the kernel image.</param>
/// <param name="Initrd">Absolute path of the initramfs.</param>
/// <param name="CommandLine">The kernel command line, printable ASCII.</param>
public sealed record KernelBoot(string Kernel, string Initrd, string CommandLine)
{
    /// <summary>The longest command line the x86 boot protocol of this kernel generation takes.</summary>
    public const int MaxCommandLineLength = 2048;

    /// <summary>
    /// Checks what reaches QEMU's argument vector: absolute paths without commas (QEMU reads a comma in
    /// <c>-initrd</c> as a list of modules) or control characters, and a printable ASCII command line.
    /// </summary>
    /// <exception cref="ArgumentException">Something does not fit.</exception>
    public KernelBoot Validate()
    {
        foreach (var (path, what) in new[] { (Kernel, "kernel"), (Initrd, "initrd") })
        {
            if (string.IsNullOrEmpty(path) || !Path.IsPathRooted(path) || path.Contains(',', StringComparison.Ordinal) || path.Any(char.IsControl))
            {
                throw new ArgumentException($"The guest's {what} path must be absolute, without commas or control characters; got '{path}'.", what);
            }
        }

        if (CommandLine is null || CommandLine.Length > MaxCommandLineLength || CommandLine.Any(c => c is < ' ' or > '~'))
        {
            throw new ArgumentException($"The kernel command line must be printable ASCII of at most {MaxCommandLineLength} characters.", nameof(CommandLine));
        }

        return this;
    }
}
