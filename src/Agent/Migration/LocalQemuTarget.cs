using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;

namespace Ferry.Agent.Migration;

/// <summary>A target QEMU on this host.</summary>
internal sealed class LocalQemuTarget(QemuProcess qemu) : IMigrationTarget
{
    public Task<RunState> QueryStatusAsync(CancellationToken cancellationToken) => qemu.Qmp.QueryStatusAsync(cancellationToken);

    public async Task TearDownAsync(CancellationToken cancellationToken) => await qemu.DisposeAsync();
}
