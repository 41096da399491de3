using System.Collections.Concurrent;
using Ferry.Agent.Ovs;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.TestGuest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ferry.Agent.Guests;

internal sealed partial class GuestRegistry(
    IQemuLauncher launcher,
    GuestPorts ports,
    IOptions<QemuLauncherOptions> qemuOptions,
    TimeProvider timeProvider,
    ILogger<GuestRegistry> logger) : IGuestRegistry
{
    /// <summary>A status query must not hang a heartbeat or an RPC on a wedged QEMU.</summary>
    private static readonly TimeSpan StatusBudget = TimeSpan.FromSeconds(5);

    /// <summary>How long a quitting QEMU may take before it is killed.</summary>
    private static readonly TimeSpan QuitGrace = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, QemuProcess> _guests = new(StringComparer.Ordinal);

    // Launches and removals are serialized so two requests for one name never start two QEMUs;
    // status reads go around it.
    private readonly SemaphoreSlim _mutation = new(1, 1);

    public async Task<AgentGuestView> LaunchAsync(GuestDefinition guest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(guest);
        ResourceName.Validate(guest.Name, "guest");
        QemuProcess qemu;
        var backends = guest.Profile == TestGuestProfile.Forwarder ? ports.WatchBackends() : null;
        await _mutation.WaitAsync(cancellationToken);
        try
        {
            if (Find(guest.Name) is { } existing)
            {
                // Never a second copy: two QEMUs of one guest would run it twice (its MACs, its disk, its traffic).
                var state = await DescribeAsync(guest.Name, existing, cancellationToken);
                throw new RequestRefusedException(Refusal.AlreadyExists,
                    $"Guest '{guest.Name}' already has a QEMU on this host (pid {existing.Pid}, {state.RunState}{(existing.Adopted ? ", adopted from the previous agent" : string.Empty)}); not starting a second one.");
            }

            qemu = await StartAsync(await SpecAsync(guest, guest.Name, incoming: false, cancellationToken), cancellationToken);
            Log.Launched(logger, guest.Name, qemu.Spec.Instance, guest.MemoryMiB, guest.Profile.ToString());
        }
        finally
        {
            _mutation.Release();
        }

        if (guest.Profile == TestGuestProfile.Forwarder)
        {
            // Outside the lock: a TCG boot takes seconds to tens of seconds, and other guests' launches,
            // stops and migrations must not wait for it.
            await WaitUntilForwardingAsync(guest.Name, qemu, backends, cancellationToken);
        }

        return await DescribeAsync(guest.Name, qemu, cancellationToken);
    }

    public async Task<QemuProcess?> LaunchIncomingAsync(GuestDefinition guest, string instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(guest);
        ResourceName.Validate(guest.Name, "guest");
        await _mutation.WaitAsync(cancellationToken);
        try
        {
            if (Find(guest.Name) is not null)
            {
                return null;
            }

            // A migration target gets the source's kernel too: its option ROM and fw_cfg are part of the machine.
            var qemu = await StartAsync(await SpecAsync(guest, instance, incoming: true, cancellationToken), cancellationToken);
            Log.IncomingLaunched(logger, guest.Name, instance);
            return qemu;
        }
        finally
        {
            _mutation.Release();
        }
    }

    public async Task<QemuProcess?> AdoptAsync(int pid, QemuInstanceRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _mutation.WaitAsync(cancellationToken);
        try
        {
            if (Find(record.Guest) is { } kept)
            {
                // Two live QEMUs of one guest (a source paused after its migration and the target that took
                // it over, say): the first found is managed, the other is left to the operator, never killed.
                Log.SecondCopyLeft(logger, record.Guest, record.Instance, pid, kept.Spec.Instance, kept.Pid);
                return null;
            }

            var qemu = await launcher.AdoptAsync(pid, record, cancellationToken);
            _guests[record.Guest] = qemu;
            Log.Adopted(logger, record.Guest, record.Instance, pid);
            return qemu;
        }
        finally
        {
            _mutation.Release();
        }
    }

    public async Task<AgentGuestView> StopAsync(string name, CancellationToken cancellationToken)
    {
        ResourceName.Validate(name, "guest");
        if (_guests.TryGetValue(name, out var qemu))
        {
            await RemoveAsync(name, qemu, graceful: true, cancellationToken);
            Log.Stopped(logger, name);
        }

        return AgentGuestView.Absent(name);
    }

    public async Task<AgentGuestView> GetStatusAsync(string name, CancellationToken cancellationToken)
    {
        ResourceName.Validate(name, "guest");
        if (!_guests.TryGetValue(name, out var qemu))
        {
            return AgentGuestView.Absent(name);
        }

        if (qemu.HasExited)
        {
            await ForgetExitedAsync(name, qemu);
            return AgentGuestView.Absent(name);
        }

        return await DescribeAsync(name, qemu, cancellationToken);
    }

    public QemuProcess? Find(string name) =>
        _guests.TryGetValue(name, out var qemu) && !qemu.HasExited ? qemu : null;

    public async Task RemoveAsync(string name, QemuProcess process, bool graceful, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(process);
        await _mutation.WaitAsync(cancellationToken);
        try
        {
            if (graceful && !process.HasExited)
            {
                await process.StopAsync(QuitGrace, cancellationToken);
            }

            // Disposing kills what is left and frees the RAM file: memory is what a host runs out of.
            await process.DisposeAsync();
            _guests.TryRemove(new KeyValuePair<string, QemuProcess>(name, process));

            // Also when a status read forgot the exited QEMU first (it detaches too, concurrently): the
            // caller, a migration's deferred cleanup say, must find the ports gone when this returns.
            // Launches wait for this lock, so no newer QEMU of this name can hold the ports yet.
            if (!_guests.ContainsKey(name))
            {
                await ports.DetachAsync(name, process.Spec.VhostUserPorts ?? []);
            }
        }
        finally
        {
            _mutation.Release();
        }
    }

    public async Task<IReadOnlyList<AgentGuestView>> ListAsync(CancellationToken cancellationToken)
    {
        var views = new List<AgentGuestView>();
        foreach (var name in _guests.Keys.Order(StringComparer.Ordinal))
        {
            var view = await GetStatusAsync(name, cancellationToken);
            if (view.Exists)
            {
                views.Add(view);
            }
        }

        return views;
    }

    private async Task<QemuGuestSpec> SpecAsync(GuestDefinition guest, string instance, bool incoming, CancellationToken cancellationToken)
    {
        var spec = guest.ToSpec(instance, incoming);
        if (guest.Profile != TestGuestProfile.Forwarder)
        {
            return spec;
        }

        if (spec.VhostUserPorts is not { Count: 2 })
        {
            throw new ArgumentException($"The forwarding guest '{guest.Name}' needs exactly two vhost-user ports; it has {spec.VhostUserPorts?.Count ?? 0}.", nameof(guest));
        }

        return spec with { Kernel = await ForwardingGuestImage.LoadAsync(qemuOptions.Value.ForwardingGuestImage, cancellationToken) };
    }

    private async Task WaitUntilForwardingAsync(string name, QemuProcess qemu, VhostBackendWatch? backends, CancellationToken cancellationToken)
    {
        try
        {
            var ready = await ForwarderConsole.WaitUntilReadyAsync(qemu, qemuOptions.Value.ForwarderReadyTimeout, timeProvider, cancellationToken);
            Log.Forwarding(logger, name, ready);

            // The guest says its NICs are up once its driver started them; whether OVS gave them a
            // backend only OVS's log tells, and a guest without one forwards nothing.
            await ports.WaitForBackendsAsync(name, qemu.Spec.VhostUserPorts ?? [], backends, timeProvider, cancellationToken);
        }
        catch (Exception ex) when (ex is QemuLaunchException or OvsCommandException or OperationCanceledException)
        {
            // A guest that does not forward is no guest: nothing of it stays, as after a failed start.
            await RemoveAsync(name, qemu, graceful: false, CancellationToken.None);
            throw;
        }
    }

    private async Task<QemuProcess> StartAsync(QemuGuestSpec spec, CancellationToken cancellationToken)
    {
        // A QEMU that died on its own still holds its instance name in the launcher until disposed.
        if (_guests.TryGetValue(spec.Guest, out var exited) && exited.HasExited)
        {
            await ForgetExitedAsync(spec.Guest, exited);
        }

        var wanted = spec.VhostUserPorts ?? [];
        if (_guests.FirstOrDefault(g => g.Key != spec.Guest && (g.Value.Spec.VhostUserPorts ?? []).Intersect(wanted, StringComparer.Ordinal).Any()) is { Value: { } owner })
        {
            // Two QEMUs on one vhost-user socket would fight over the port's queues.
            throw new QemuLaunchException($"Guest '{spec.Guest}' asks for vhost-user ports ({string.Join(", ", wanted)}) that guest '{owner.Spec.Guest}' already has on this host.");
        }

        await ports.AttachAsync(spec.Guest, wanted, QemuInstanceLayout.For(qemuOptions.Value, spec).Directory, cancellationToken);
        try
        {
            var qemu = await launcher.LaunchAsync(spec, cancellationToken);
            _guests[spec.Guest] = qemu;
            return qemu;
        }
        catch
        {
            await ports.DetachAsync(spec.Guest, wanted);
            throw;
        }
    }

    private async Task ForgetExitedAsync(string name, QemuProcess qemu)
    {
        if (_guests.TryRemove(new KeyValuePair<string, QemuProcess>(name, qemu)))
        {
            Log.ExitedOnItsOwn(logger, name, await qemu.Exited);
            await qemu.DisposeAsync();
            await ports.DetachAsync(name, qemu.Spec.VhostUserPorts ?? []);
        }
    }

    private async Task<AgentGuestView> DescribeAsync(string name, QemuProcess qemu, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = new CancellationTokenSource(StatusBudget, timeProvider);
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var state = await qemu.Qmp.QueryStatusAsync(budget.Token);
            return new AgentGuestView(name, true, state.Status, qemu.Accelerator);
        }
        catch (QmpException ex)
        {
            Log.StatusUnknown(logger, name, ex.Message);
            return new AgentGuestView(name, true, AgentGuestView.UnknownState, qemu.Accelerator);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.StatusUnknown(logger, name, $"no answer within {StatusBudget.TotalSeconds} s");
            return new AgentGuestView(name, true, AgentGuestView.UnknownState, qemu.Accelerator);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.GuestLaunched, Level = LogLevel.Information, Message = "Guest {Guest} launched as {Instance}: {MemoryMiB} MiB, profile {Profile}")]
        public static partial void Launched(ILogger logger, string guest, string instance, int memoryMiB, string profile);

        [LoggerMessage(EventId = AgentEventIds.GuestIncomingLaunched, Level = LogLevel.Information, Message = "Guest {Guest} prepared as migration target {Instance}")]
        public static partial void IncomingLaunched(ILogger logger, string guest, string instance);

        [LoggerMessage(EventId = AgentEventIds.GuestStopped, Level = LogLevel.Information, Message = "Guest {Guest} stopped")]
        public static partial void Stopped(ILogger logger, string guest);

        [LoggerMessage(EventId = AgentEventIds.GuestExitedOnItsOwn, Level = LogLevel.Warning, Message = "Guest {Guest}'s QEMU exited on its own with code {ExitCode}; forgotten")]
        public static partial void ExitedOnItsOwn(ILogger logger, string guest, int exitCode);

        [LoggerMessage(EventId = AgentEventIds.GuestStatusUnknown, Level = LogLevel.Warning, Message = "Run state of guest {Guest} unknown: {Reason}")]
        public static partial void StatusUnknown(ILogger logger, string guest, string reason);

        [LoggerMessage(EventId = AgentEventIds.GuestAdopted, Level = LogLevel.Warning, Message = "Guest {Guest} runs on in QEMU {Instance} (pid {Pid}), left by the previous agent; adopted")]
        public static partial void Adopted(ILogger logger, string guest, string instance, int pid);

        [LoggerMessage(EventId = AgentEventIds.GuestSecondCopyLeft, Level = LogLevel.Error, Message = "Guest {Guest} has a second live QEMU {Instance} (pid {Pid}) besides {KeptInstance} (pid {KeptPid}); the second is not managed, stop it by hand")]
        public static partial void SecondCopyLeft(ILogger logger, string guest, string instance, int pid, string keptInstance, int keptPid);

        [LoggerMessage(EventId = AgentEventIds.GuestForwarding, Level = LogLevel.Information, Message = "Guest {Guest} forwards: {Console}")]
        public static partial void Forwarding(ILogger logger, string guest, string console);
    }
}
