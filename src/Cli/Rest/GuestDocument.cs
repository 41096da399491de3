namespace Ferry.Cli.Rest;

/// <summary>A guest as <c>GET /api/v1/guests</c> returns it (the fields the CLI shows).</summary>
internal sealed record GuestDocument(Guid Id, string Name, int MemoryMiB, int Vcpus, string Host, string State, long? HugepageSizeKiB,
    IReadOnlyList<string> VhostUserPorts, string Profile, string? Accelerator);
