namespace Ferry.Domain.Guests;

/// <summary>A virtual machine Ferry can move.</summary>
public sealed class Guest
{
    /// <summary>Largest guest accepted, MiB (1 TiB).</summary>
    public const int MaxMemoryMiB = 1024 * 1024;

    /// <summary>Most vCPUs accepted (QEMU's limit for the q35 machine).</summary>
    public const int MaxVcpus = 288;

    /// <summary>Longest VNF or VNFC instance id accepted (an NFVO's identifier, ETSI SOL 003 <c>Identifier</c>).</summary>
    public const int MaxCorrelationIdLength = 255;

    /// <summary>A vhost-user port becomes an OVS interface: the kernel's interface-name limit applies.</summary>
    public const int MaxPortNameLength = 15;

    private List<string> _vhostUserPorts = [];

    private Guest(Guid id, string name, int memoryMiB, int vcpus, long? hugepageSizeKiB, Guid hostId)
    {
        Id = id;
        Name = name;
        MemoryMiB = memoryMiB;
        Vcpus = vcpus;
        HugepageSizeKiB = hugepageSizeKiB;
        HostId = hostId;
    }

    /// <summary>Server-generated identity.</summary>
    public Guid Id { get; private set; }

    /// <summary>Unique name, <see cref="Names.Pattern"/>.</summary>
    public string Name { get; private set; }

    /// <summary>Guest RAM, MiB.</summary>
    public int MemoryMiB { get; private set; }

    /// <summary>Virtual CPUs.</summary>
    public int Vcpus { get; private set; }

    /// <summary>Hugepage size backing guest RAM, KiB; null for ordinary shared memory.</summary>
    public long? HugepageSizeKiB { get; private set; }

    /// <summary>Names of the guest's vhost-user ports on its host's OVS-DPDK bridge.</summary>
    public IReadOnlyList<string> VhostUserPorts => _vhostUserPorts;

    /// <summary>What the guest runs when launched.</summary>
    public GuestProfile Profile { get; private set; }

    /// <summary>The host the guest runs on.</summary>
    public Guid HostId { get; private set; }

    /// <summary>Lifecycle state.</summary>
    public GuestState State { get; private set; }

    /// <summary>The VNF instance (as the NFVO or VNFM names it) this guest belongs to; null when none was given.</summary>
    public string? VnfInstanceId { get; private set; }

    /// <summary>The VNFC instance (one VM of a VNF) this guest is; null when none was given.</summary>
    public string? VnfcInstanceId { get; private set; }

    /// <summary>Defines a guest on a host.</summary>
    public static Guest Define(string name, int memoryMiB, int vcpus, Guid hostId,
        long? hugepageSizeKiB = null, IEnumerable<string>? vhostUserPorts = null, GuestProfile profile = GuestProfile.Idle,
        string? vnfInstanceId = null, string? vnfcInstanceId = null)
    {
        if (ExplainCorrelationId(vnfInstanceId) is { } vnfProblem)
        {
            throw new DomainException($"vnfInstanceId {vnfProblem}");
        }

        if (ExplainCorrelationId(vnfcInstanceId) is { } vnfcProblem)
        {
            throw new DomainException($"vnfcInstanceId {vnfcProblem}");
        }

        if (Names.Explain(name) is { } problem)
        {
            throw new DomainException($"guest name {problem}");
        }

        if (memoryMiB is < 1 or > MaxMemoryMiB)
        {
            throw new DomainException($"guest memory must be 1..{MaxMemoryMiB} MiB");
        }

        if (vcpus is < 1 or > MaxVcpus)
        {
            throw new DomainException($"guest vCPUs must be 1..{MaxVcpus}");
        }

        if (hugepageSizeKiB is { } size && size is not (2048 or 1048576))
        {
            throw new DomainException("hugepage size must be 2048 or 1048576 KiB");
        }

        var ports = (vhostUserPorts ?? []).ToList();
        if (ports.FirstOrDefault(p => !Names.IsValid(p)) is { } bad)
        {
            throw new DomainException($"vhost-user port '{bad}' {Names.Explain(bad)}");
        }

        if (ports.FirstOrDefault(p => p.Length > MaxPortNameLength) is { } longName)
        {
            throw new DomainException($"vhost-user port '{longName}' must be at most {MaxPortNameLength} characters");
        }

        if (!Enum.IsDefined(profile))
        {
            throw new DomainException("unknown guest profile");
        }

        if (profile == GuestProfile.Forwarder && ports.Count != 2)
        {
            throw new DomainException("a forwarder guest needs exactly two vhost-user ports");
        }

        return new Guest(Guid.CreateVersion7(), name, memoryMiB, vcpus, hugepageSizeKiB, hostId) { _vhostUserPorts = ports, Profile = profile, VnfInstanceId = vnfInstanceId, VnfcInstanceId = vnfcInstanceId };
    }

    /// <summary>Why <paramref name="id"/> cannot be a VNF or VNFC instance id; null when it can (or is absent).</summary>
    public static string? ExplainCorrelationId(string? id) => id switch
    {
        null => null,
        { Length: 0 } => "must not be empty",
        { Length: > MaxCorrelationIdLength } => $"must be at most {MaxCorrelationIdLength} characters",
        _ when id.Any(char.IsControl) => "must not hold control characters",
        _ => null,
    };

    /// <summary>The state to return to when a migration ends; meaningful only while migrating.</summary>
    public GuestState StateBeforeMigration { get; private set; }

    /// <summary>Marks the guest as moving.</summary>
    public void BeginMigration()
    {
        if (State != GuestState.Migrating)
        {
            StateBeforeMigration = State;
            State = GuestState.Migrating;
        }
    }

    /// <summary>A migration ended with the guest on <paramref name="hostId"/> (its source when it did not switch over).</summary>
    public void EndMigration(Guid hostId)
    {
        HostId = hostId;
        if (State == GuestState.Migrating)
        {
            State = StateBeforeMigration;
        }
    }

    /// <summary>Records what the host agent reports about the guest.</summary>
    public void Observe(GuestState state) => State = state;
}
