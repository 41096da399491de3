namespace Ferry.Agent.Qemu;

/// <summary>Starts and supervises QEMU processes; disposing it kills every process it started.</summary>
public interface IQemuLauncher : IAsyncDisposable
{
    /// <summary>The accelerator guests of <paramref name="kind"/> get on this host, with the probe's reason.</summary>
    AcceleratorChoice AcceleratorFor(GuestKind kind);

    /// <summary>Starts QEMU and returns once its QMP connection is negotiated.</summary>
    /// <exception cref="QemuLaunchException">QEMU exited or never answered on QMP.</exception>
    Task<QemuProcess> LaunchAsync(QemuGuestSpec spec, CancellationToken cancellationToken = default);
}
