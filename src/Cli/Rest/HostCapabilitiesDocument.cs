namespace Ferry.Cli.Rest;

/// <summary>What a host's agent reported it can do.</summary>
internal sealed record HostCapabilitiesDocument(string CpuModel, bool Kvm, long MemoryFreeMiB, IReadOnlyList<HugepagePoolDocument> Hugepages,
    string? QemuVersion, string? OvsVersion, IReadOnlyList<string> DirtyTracking);
