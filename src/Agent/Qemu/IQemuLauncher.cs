namespace Ferry.Agent.Qemu;

/// <summary>
/// Starts and supervises QEMU processes. Disposing it (the agent's shutdown) lets every QEMU run on, for
/// the next agent to adopt: a guest never dies because its agent stopped.
/// </summary>
public interface IQemuLauncher : IAsyncDisposable
{
    /// <summary>The accelerator guests of <paramref name="kind"/> get on this host, with the probe's reason.</summary>
    AcceleratorChoice AcceleratorFor(GuestKind kind);

    /// <summary>Starts QEMU and returns once its QMP connection is negotiated.</summary>
    /// <exception cref="QemuLaunchException">QEMU exited or never answered on QMP.</exception>
    Task<QemuProcess> LaunchAsync(QemuGuestSpec spec, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes over QEMU <paramref name="pid"/>, which an earlier life of this agent started as <paramref name="record"/>
    /// says, once its QMP monitor answers. The caller has made sure the pid is that QEMU.
    /// </summary>
    /// <exception cref="QemuLaunchException">It exited meanwhile.</exception>
    /// <exception cref="Ferry.Agent.Qmp.QmpException">Its monitor does not answer.</exception>
    Task<QemuProcess> AdoptAsync(int pid, QemuInstanceRecord record, CancellationToken cancellationToken = default);
}
