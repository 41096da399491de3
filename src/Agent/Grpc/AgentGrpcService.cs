using System.Net;
using Ferry.Agent.Guests;
using Ferry.Agent.Migration;
using Ferry.Agent.Migration.Transports.Native;
using Ferry.Agent.Ovs;
using Ferry.Agent.Probe;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.TestGuest;
using Ferry.Contracts;
using TransportKind = Ferry.Domain.Migrations.TransportKind;
using Grpc.Core;

namespace Ferry.Agent.Grpc;

/// <summary>
/// The AgentService contract, mapped onto the agent's components. Every request field is validated
/// here before it reaches a path, QEMU or a URI; migration URIs are built from an IP address and a
/// port only, always <c>tcp:</c>.
/// </summary>
internal sealed class AgentGrpcService(
    IGuestRegistry guests,
    IOutgoingMigrations sources,
    IIncomingMigrations targets,
    IQemuGuestTracking trackers,
    INetworkProbes probes,
    IHostDescriber host,
    IncomingMigrationSources incoming,
    IAgentChannels agents) : AgentService.AgentServiceBase
{
    private const int MaxMemoryMiB = 1024 * 1024;

    /// <summary>What a source may wait for a target's ports: beyond it the ports are not coming.</summary>
    private const int MaxArrivalWaitMs = 60_000;

    /// <summary>As the API's policy allows: beyond it the generator, not the guest, would be measured.</summary>
    private const int MaxProbeRatePps = 1_000_000;

    public override Task<HostInventory> Describe(DescribeRequest request, ServerCallContext context) =>
        host.DescribeAsync(context.CancellationToken);

    public override async Task<GuestStatusReply> LaunchGuest(LaunchGuestRequest request, ServerCallContext context) =>
        ToReply(await guests.LaunchAsync(ToDefinition(request.Guest), context.CancellationToken));

    public override async Task<GuestStatusReply> StopGuest(StopGuestRequest request, ServerCallContext context) =>
        ToReply(await guests.StopAsync(ResourceName.Validate(request.Name, "name"), context.CancellationToken));

    public override async Task<GuestStatusReply> GetGuestStatus(GuestStatusRequest request, ServerCallContext context) =>
        ToReply(await guests.GetStatusAsync(ResourceName.Validate(request.Name, "name"), context.CancellationToken));

    public override async Task<PrepareIncomingReply> PrepareIncoming(PrepareIncomingRequest request, ServerCallContext context)
    {
        var id = MigrationId.Validate(request.MigrationId);
        var guest = ToDefinition(request.Guest);
        var token = PageStreamCredentials.Validate(request.PageStreamToken.Span, "page_stream_token");
        var transport = TransportChoice.ForTarget(TransportMapping.ToKind(request.Policy?.Transport), trackers.ForHost());
        var probeRate = ProbeRate(request.Policy);

        // Before anything is prepared: the source may ask about the guest as soon as the target exists.
        var sourceHost = string.IsNullOrEmpty(request.SourceHost) ? null : ResourceName.Validate(request.SourceHost, "source_host");
        if (sourceHost is not null)
        {
            incoming.Remember(id, sourceHost, guest.Name);
        }

        // The engine's receiver takes page streams from the source's migration address alone.
        IPAddress? source = null;
        if (!string.IsNullOrEmpty(request.SourceAddress) && !IPAddress.TryParse(request.SourceAddress, out source))
        {
            throw new ArgumentException($"source_address must be an IP address; got '{Printable(request.SourceAddress)}'.", nameof(request));
        }

        var prepared = await targets.PrepareAsync(id, guest, MigrationPolicySettings.ToSettings(request.Policy), transport, token, sourceHost, source, context.CancellationToken);
        if (probeRate > 0)
        {
            await SteerProbeToIncomingAsync(id, guest, context.CancellationToken);
        }

        return new PrepareIncomingReply
        {
            Address = prepared.Address.ToString(),
            Port = prepared.Port,
            Transport = TransportMapping.ToProto(prepared.Transport.Kind),
            PageStreamPort = prepared.PageStreamPort,
            PageStreamToken = prepared.PageStreamToken is { } accepted ? Google.Protobuf.ByteString.CopyFrom(accepted) : Google.Protobuf.ByteString.Empty,
        };
    }

    public override async Task Migrate(MigrateRequest request, IServerStreamWriter<MigrationProgress> responseStream, ServerCallContext context)
    {
        var outgoing = ToOutgoing(request);
        if (outgoing.TargetHost is { } targetHost)
        {
            // The target agent must prove it is the host the API chose (with cluster TLS; a no-op without).
            agents.ExpectHost(outgoing.TargetAgent, targetHost);
        }

        var migration = await sources.StartOrAttachAsync(outgoing, context.CancellationToken);

        // A broken stream ends this loop only; the migration goes on and a new call re-attaches.
        await foreach (var progress in migration.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(progress, context.CancellationToken);
        }
    }

    public override async Task<CancelReply> Cancel(CancelRequest request, ServerCallContext context)
    {
        var outcome = await sources.CancelAsync(MigrationId.Validate(request.MigrationId), context.CancellationToken);
        // `cancelled` stays for APIs that predate the outcome: true exactly when the guest stays here.
        return new CancelReply { Outcome = outcome, Cancelled = outcome == CancelReply.Types.Outcome.Cancelled };
    }

    public override async Task<CleanupReply> Cleanup(CleanupRequest request, ServerCallContext context)
    {
        var id = MigrationId.Validate(request.MigrationId);
        var elapsed = request.Role switch
        {
            CleanupRequest.Types.Role.Target => await CleanupTargetAsync(id, context.CancellationToken),
            CleanupRequest.Types.Role.Source => await sources.CleanupAsync(
                id, string.IsNullOrEmpty(request.GuestName) ? null : ResourceName.Validate(request.GuestName, "guest_name"), context.CancellationToken),
            _ => throw new ArgumentException("role must be ROLE_SOURCE or ROLE_TARGET.", nameof(request)),
        };
        return new CleanupReply { CleanupTimeMs = elapsed.TotalMilliseconds };
    }

    private async Task<TimeSpan> CleanupTargetAsync(string id, CancellationToken cancellationToken)
    {
        var elapsed = await targets.CleanupAsync(id, cancellationToken);
        incoming.Forget(id);
        return elapsed;
    }

    public override async Task<ArrivalReport> DescribeArrival(DescribeArrivalRequest request, ServerCallContext context)
    {
        var id = MigrationId.Validate(request.MigrationId);
        if (request.WaitMs is < 0 or > MaxArrivalWaitMs)
        {
            throw new ArgumentException($"wait_ms must be 0-{MaxArrivalWaitMs}.", nameof(request));
        }

        var arrival = await targets.DescribeArrivalAsync(id, TimeSpan.FromMilliseconds(request.WaitMs), context.CancellationToken);
        return new ArrivalReport
        {
            RunningAtUs = ToMicroseconds(arrival.RunningAt),
            PortsUpAtUs = ToMicroseconds(arrival.PortsUpAt),
            Note = arrival.Note ?? string.Empty,
        };
    }

    private static long ToMicroseconds(DateTimeOffset? at) => at is { } moment ? (moment - DateTimeOffset.UnixEpoch).Ticks / 10 : 0;

    /// <summary>
    /// The probe's stream must reach the guest here once it runs here; a host that cannot do that refuses the
    /// migration (and tears down what it prepared), so the guest stays where it is measured.
    /// </summary>
    private async Task SteerProbeToIncomingAsync(string migrationId, GuestDefinition guest, CancellationToken cancellationToken)
    {
        try
        {
            await probes.SteerToIncomingGuestAsync(migrationId, guest.Name, guest.VhostUserPorts ?? [], cancellationToken);
        }
        catch (ProbeUnavailableException ex)
        {
            await targets.CleanupAsync(migrationId, CancellationToken.None);
            throw new RequestRefusedException(Refusal.FailedPrecondition, ex.Message, ex);
        }
        catch (OvsCommandException ex)
        {
            await targets.CleanupAsync(migrationId, CancellationToken.None);
            throw new RequestRefusedException(Refusal.FailedPrecondition, $"The probe's stream could not be steered to guest '{guest.Name}' here: {ex.Message}", ex);
        }
    }

    private static int ProbeRate(MigrationPolicy? policy) =>
        policy?.ProbeRatePps is { } rate and not 0
            ? rate is > 0 and <= MaxProbeRatePps ? rate : throw new ArgumentException($"policy.probe_rate_pps must be 0 (no probe) or 1-{MaxProbeRatePps}.", nameof(policy))
            : 0;

    private static OutgoingMigrationRequest ToOutgoing(MigrateRequest request)
    {
        var id = MigrationId.Validate(request.MigrationId);
        var guest = ResourceName.Validate(request.GuestName, "guest_name");

        // Only an IP literal and a port become the URI: no host names, no schemes from the wire.
        if (!IPAddress.TryParse(request.TargetAddress, out var address))
        {
            throw new ArgumentException($"target_address must be an IP address; got '{Printable(request.TargetAddress)}'.", nameof(request));
        }

        if (request.TargetPort is < 1 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentException("target_port must be 1-65535.", nameof(request));
        }

        if (!Uri.TryCreate(request.TargetAgentEndpoint, UriKind.Absolute, out var agent) || (agent.Scheme != Uri.UriSchemeHttp && agent.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"target_agent_endpoint must be an http(s) URL; got '{Printable(request.TargetAgentEndpoint)}'.", nameof(request));
        }

        if (request.PageStreamPort is < 0 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentException("page_stream_port must be 0 (none) or 1-65535.", nameof(request));
        }

        // For an explicit native target, target_port is the engine's port, so an API that forwards only
        // address and port still reaches it; the token must come along either way.
        var transport = TransportChoice.Resolve(TransportMapping.ToKind(request.Policy?.Transport));
        var token = PageStreamCredentials.Validate(request.PageStreamToken.Span, "page_stream_token");
        var enginePort = request.PageStreamPort > 0 ? request.PageStreamPort : transport.Kind == TransportKind.Native ? request.TargetPort : 0;
        return new OutgoingMigrationRequest(
            id,
            guest,
            MigrationUri.Tcp(address, request.TargetPort),
            agent,
            MigrationPolicySettings.ToSettings(request.Policy),
            transport,
            enginePort > 0 ? new IPEndPoint(address, enginePort) : null,
            token,
            ProbeRate(request.Policy),
            string.IsNullOrEmpty(request.TargetHost) ? null : ResourceName.Validate(request.TargetHost, "target_host"));
    }

    private static GuestDefinition ToDefinition(GuestSpec? spec)
    {
        if (spec is null)
        {
            throw new ArgumentException("guest is required.", nameof(spec));
        }

        var name = ResourceName.Validate(spec.Name, "guest.name");
        if (spec.MemoryMib is < 16 or > MaxMemoryMiB)
        {
            throw new ArgumentException($"guest.memory_mib must be 16-{MaxMemoryMiB}.", nameof(spec));
        }

        // 0 is what a caller that never set the field sends (proto3): one vCPU, as before the field was honoured.
        var vcpus = spec.Vcpus == 0 ? 1 : spec.Vcpus;
        if (vcpus is < 1 or > Domain.Guests.Guest.MaxVcpus)
        {
            throw new ArgumentException($"guest.vcpus must be 1-{Domain.Guests.Guest.MaxVcpus}.", nameof(spec));
        }

        var profile = spec.Profile switch
        {
            "" or "idle" => TestGuestProfile.Idle,
            "page-counter" => TestGuestProfile.PageCounter,
            "forwarder" => TestGuestProfile.Forwarder,
            _ => throw new ArgumentException($"guest.profile must be 'idle', 'page-counter' or 'forwarder'; got '{Printable(spec.Profile)}'.", nameof(spec)),
        };
        if (profile == TestGuestProfile.Forwarder && spec.VhostUserPorts.Count != 2)
        {
            throw new ArgumentException($"guest.profile 'forwarder' needs exactly two guest.vhost_user_ports; got {spec.VhostUserPorts.Count}.", nameof(spec));
        }

        var backing = spec.HugepageSizeKib switch
        {
            0 => MemoryBacking.Tmpfs,
            2048 => MemoryBacking.Hugetlbfs,
            _ => throw new ArgumentException("guest.hugepage_size_kib must be 0 or 2048 on this agent.", nameof(spec)),
        };
        var ports = spec.VhostUserPorts.Select(p => ResourceName.Validate(p, "guest.vhost_user_ports")).ToList();
        return new GuestDefinition(name, spec.MemoryMib, profile, backing, ports, vcpus);
    }

    private static GuestStatusReply ToReply(AgentGuestView view) => new()
    {
        Name = view.Name,
        Exists = view.Exists,
        RunState = view.RunState,
        Accelerator = view.Accelerator?.Name ?? string.Empty,
        AcceleratorReason = view.Accelerator?.Reason ?? string.Empty,
    };

    private static string Printable(string? value) =>
        value is null ? string.Empty : new string(value.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
