using Ferry.Domain.Guests;
using Ferry.Domain.Hosts;
using Ferry.Domain.Migrations;
using Proto = Ferry.Contracts;

namespace Ferry.Api.Agents;

/// <summary>Between the domain and the gRPC contracts.</summary>
internal static class ProtoMapping
{
    public static HostCapabilities ToCapabilities(this Proto.HostInventory i) => new()
    {
        CpuModel = i.CpuModel,
        CpuFlags = [.. i.CpuFlags],
        Kvm = i.Kvm,
        MemoryFreeMiB = i.MemoryFreeMib,
        Hugepages = [.. i.Hugepages.Select(p => new HugepagePool(p.PageSizeKib, p.Total, p.Free))],
        QemuVersion = NullIfEmpty(i.QemuVersion),
        OvsVersion = NullIfEmpty(i.OvsVersion),
        DirtyTracking = [.. i.DirtyTracking],
        Accelerators = [.. i.Accelerators.Select(a => new GuestAccelerator(a.GuestKind, a.Accelerator, a.Reason))],
    };

    private static SwitchoverParts ToParts(Proto.SwitchoverParts p) => new()
    {
        PauseMs = p.HasPauseMs ? p.PauseMs : null,
        FinalScanMs = p.HasFinalScanMs ? p.FinalScanMs : null,
        FinalTransferMs = p.HasFinalTransferMs ? p.FinalTransferMs : null,
        TargetStartMs = p.HasTargetStartMs ? p.TargetStartMs : null,
        PortsUpMs = p.HasPortsUpMs ? p.PortsUpMs : null,
        TrafficMs = p.HasTrafficMs ? p.TrafficMs : null,
        PausedAt = FromMicroseconds(p.PausedAtUs),
        RunningAt = FromMicroseconds(p.RunningAtUs),
        PortsUpAt = FromMicroseconds(p.PortsUpAtUs),
    };

    private static DateTimeOffset? FromMicroseconds(long microseconds) =>
        microseconds > 0 ? DateTimeOffset.UnixEpoch.AddTicks(microseconds * 10) : null;

    public static Proto.GuestSpec ToSpec(this Guest g)
    {
        var profile = g.Profile switch
        {
            GuestProfile.PageCounter => "page-counter",
            GuestProfile.Forwarder => "forwarder",
            _ => "idle",
        };
        var spec = new Proto.GuestSpec
        {
            GuestId = g.Id.ToString(), Name = g.Name, MemoryMib = g.MemoryMiB, Vcpus = g.Vcpus,
            HugepageSizeKib = g.HugepageSizeKiB ?? 0, Profile = profile,
        };
        spec.VhostUserPorts.Add(g.VhostUserPorts);
        return spec;
    }

    public static Proto.MigrationPolicy ToProto(this MigrationPolicy p, int memoryMiB) => new()
    {
        MaxDowntimeMs = p.MaxDowntimeMs,
        MaxTotalTimeMs = p.MaxTotalTimeMs,
        Transport = p.Transport.ToProto(),
        BandwidthMbps = p.BandwidthMbps ?? 0,
        ParallelStreams = p.ParallelStreams,
        CompletionTimeoutSeconds = (int)Math.Ceiling(p.CompletionTimeout(memoryMiB).TotalSeconds),
        ProgressTimeoutSeconds = p.ProgressTimeoutSeconds,
        AllowAutoConverge = p.AllowAutoConverge,
        ProbeRatePps = p.ProbeRatePps ?? 0,
    };

    public static Proto.Transport ToProto(this TransportKind t) => t switch
    {
        TransportKind.Qemu => Proto.Transport.Qemu,
        TransportKind.Native => Proto.Transport.Native,
        _ => Proto.Transport.Auto,
    };

    public static TransportKind ToDomain(this Proto.Transport t) => t switch
    {
        Proto.Transport.Native => TransportKind.Native,
        Proto.Transport.Qemu => TransportKind.Qemu,
        _ => TransportKind.Auto,
    };

    public static MigrationResult ToResult(this Proto.MigrationStats s) => new()
    {
        Transport = s.Transport.ToDomain(),
        TotalTimeMs = s.TotalTimeMs,
        DowntimeMs = s.DowntimeMs,
        NetworkDowntimeMs = s.HasNetworkDowntimeMs ? s.NetworkDowntimeMs : null,
        SetupTimeMs = s.SetupTimeMs,
        BytesTransferred = s.BytesTransferred,
        ZeroPages = s.ZeroPages,
        NormalPages = s.NormalPages,
        Passes = s.Passes,
        DirtyPagesPerSecond = s.DirtyPagesPerSecond,
        ThroughputMbps = s.ThroughputMbps,
        CleanupTimeMs = s.CleanupTimeMs,
        TransportReason = NullIfEmpty(s.TransportReason),
        FramesSent = s.HasFramesSent ? s.FramesSent : null,
        FramesLost = s.HasFramesLost ? s.FramesLost : null,
        FramesCorrupt = s.HasFramesCorrupt ? s.FramesCorrupt : null,
        PacketRatePps = s.HasPacketRatePps ? s.PacketRatePps : null,
        AnnounceMs = s.HasAnnounceMs ? s.AnnounceMs : null,
        ProbeNote = NullIfEmpty(s.ProbeNote),
        RamCheck = NullIfEmpty(s.RamCheck),
        Switchover = s.Switchover is { } parts ? ToParts(parts) : null,
    };

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
