using Ferry.Agent.Qmp;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Qemu;

/// <summary>One outgoing migration: where from, where to, how, and what to do with the source afterwards.</summary>
/// <param name="Source">QMP of the running source QEMU.</param>
/// <param name="Destination">The URI the target listens on (built by the agent, never taken from a request).</param>
/// <param name="Target">The prepared target.</param>
/// <param name="Settings">Tuning and bounds.</param>
/// <param name="DeferredSourceCleanup">Runs only after the target runs; defaults to quitting the source QEMU.</param>
/// <param name="Progress">Receives a sample per poll.</param>
/// <param name="SwitchedOver">Awaited once QEMU completed the switch-over, before the target is asked whether it runs (the test-only fault hold).</param>
/// <param name="Tls">QEMU's TLS at the source (the target must have been prepared with it too); null for plain TCP.</param>
public sealed record QemuMigrationRequest(
    IQmpClient Source,
    MigrationUri Destination,
    IMigrationTarget Target,
    MigrationSettings Settings,
    Func<CancellationToken, Task>? DeferredSourceCleanup = null,
    IProgress<QemuMigrationProgress>? Progress = null,
    Func<Task>? SwitchedOver = null,
    QemuMigrationTls? Tls = null);
