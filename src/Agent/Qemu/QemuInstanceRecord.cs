using System.Text.Json;

namespace Ferry.Agent.Qemu;

/// <summary>
/// What a later life of the agent needs to take a running QEMU over (<c>instance.json</c> beside its QMP
/// socket, written at launch): the spec without the boot images (they matter only at start) and the
/// accelerator it runs with. Its RAM file is named, not derived: the next agent may be configured with
/// another RAM directory, and the QEMU keeps the file it has.
/// </summary>
public sealed record QemuInstanceRecord(
    string Guest,
    string Instance,
    int MemoryMiB,
    MemoryBacking Backing,
    IReadOnlyList<string> VhostUserPorts,
    bool Incoming,
    string? VhostUserSocketDirectory,
    int Vcpus,
    Accelerator Accelerator,
    string AcceleratorReason,
    string RamFile)
{
    public const string FileName = "instance.json";

    public static QemuInstanceRecord Of(QemuGuestSpec spec, QemuInstanceLayout layout, AcceleratorChoice accelerator)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(accelerator);
        return new(spec.Guest, spec.Instance, spec.MemoryMiB, spec.Backing, spec.VhostUserPorts ?? [], spec.Incoming, spec.VhostUserSocketDirectory, spec.Vcpus,
            accelerator.Accelerator, accelerator.Reason, layout.RamFile);
    }

    public QemuGuestSpec ToSpec() => new(Guest, Instance, MemoryMiB, Backing, null, VhostUserPorts, Incoming, VhostUserSocketDirectory, null, Vcpus);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, QemuInstanceRecordJson.Default.QemuInstanceRecord);

    /// <summary>The record in <paramref name="directory"/>; null when there is none or it does not parse (written by an older agent, or torn).</summary>
    public static QemuInstanceRecord? TryRead(string directory)
    {
        try
        {
            var record = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(directory, FileName)), QemuInstanceRecordJson.Default.QemuInstanceRecord);
            return record is { Guest.Length: > 0, Instance.Length: > 0, RamFile.Length: > 0 }
                && string.Equals(ResourceName.Validate(record.Instance, "instance"), Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), StringComparison.Ordinal)
                ? record with { Guest = ResourceName.Validate(record.Guest, "guest") }
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or ArgumentException)
        {
            return null;
        }
    }
}
