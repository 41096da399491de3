namespace Ferry.Agent.Qemu;

/// <summary>Fixed roots and limits of the launcher, section <c>Ferry:Qemu</c>; every path it creates is under one of these roots.</summary>
public sealed record QemuLauncherOptions
{
    public const string Section = "Ferry:Qemu";

    /// <summary>The QEMU the launcher runs, a name looked up in <c>PATH</c> or a path.</summary>
    public string QemuBinary { get; init; } = "qemu-system-x86_64";

    /// <summary>Per-instance directories (QMP socket, logs, boot disk) go here.</summary>
    public string RunDirectory { get; init; } = "/run/ferry-agent/qemu";

    /// <summary>Where guests' RAM files live on tmpfs (the agent defaults it to <c>/dev/shm/ferry-&lt;host&gt;</c>, a directory of its own).</summary>
    public string TmpfsDirectory { get; init; } = "/dev/shm";

    /// <summary>Where hugepage-backed guests' RAM files live on hugetlbfs (the agent defaults it to <c>/dev/hugepages/ferry-&lt;host&gt;</c>).</summary>
    public string HugetlbfsDirectory { get; init; } = "/dev/hugepages";

    /// <summary>The KVM device the accelerator probe opens; absent or unusable, guests run under TCG.</summary>
    public string KvmDevice { get; init; } = AcceleratorProbe.DefaultKvmDevice;

    /// <summary>Source and target must run the same machine type for migration to work.</summary>
    public string MachineType { get; init; } = "pc-i440fx-7.2";

    /// <summary>How long a started QEMU may take until its QMP socket answers, before preallocation.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Extra start time per GiB of guest RAM: with <c>prealloc=on</c> QEMU accepts the QMP connection
    /// at once but greets only after touching every page (seconds for a few GiB on tmpfs).
    /// </summary>
    public TimeSpan StartTimeoutPerGiB { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The directory <c>scripts/forwarding-guest/build.sh</c> wrote the forwarding guest to (<c>vmlinuz</c>,
    /// <c>initrd</c>, <c>cmdline</c>). Empty, the default, means this agent cannot run the forwarder profile.
    /// </summary>
    public string ForwardingGuestImage { get; init; } = "";

    /// <summary>
    /// How long a forwarding guest may take from QEMU's start until its console says it forwards. Under TCG
    /// on a loaded 2-core host its kernel boots in seconds to tens of seconds; under KVM in about one.
    /// </summary>
    public TimeSpan ForwarderReadyTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Runs QEMU under its seccomp sandbox (<c>-sandbox on</c>): obsolete system calls, spawning
    /// processes, changing privileges and scheduler or CPU-affinity changes are denied. On by default;
    /// vhost-user, QMP and TCP migration need none of them (checked with QEMU 7.2).
    /// </summary>
    public bool Sandbox { get; init; } = true;

    /// <summary>
    /// The unprivileged user QEMU drops to once it has opened what it needs (<c>-runas</c>):
    /// <c>/dev/kvm</c>, its RAM file (created for that user, 0600), its QMP and vhost-user listening
    /// sockets and its logs are opened as the agent's user before the drop; what it opens later (its boot
    /// disk, reopened at a migration's switch-over, and the migration TLS credentials) is that user's.
    /// <c>ferry-qemu</c> by default (<c>scripts/install-deps.sh</c> creates it). Where the agent cannot
    /// use it (the user is missing, the agent is not root) QEMU runs as the agent's user and the agent
    /// warns at start, unless <see cref="RequireRunAs"/>. Empty: QEMU runs as the agent's user.
    /// </summary>
    public string RunAs { get; init; } = "ferry-qemu";

    /// <summary>
    /// Refuse to start when QEMU cannot run as <see cref="RunAs"/> instead of falling back to the
    /// agent's user with a warning. Off by default so a development machine without the user still
    /// runs guests; production hosts should turn it on.
    /// </summary>
    public bool RequireRunAs { get; init; }

    /// <summary>Forces an accelerator for every kind of guest instead of probing (tests, inventory overrides).</summary>
    public Accelerator? ForceAccelerator { get; init; }

    /// <summary>
    /// How long the Linux boot probe waits for a kernel's init under KVM before it runs Linux guests
    /// under TCG. Hardware KVM needs about a second; kvm_pvm's never gets there.
    /// </summary>
    public TimeSpan LinuxKvmProbeTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Preloads <c>libferry-uffd.so</c> (built beside the agent) into every QEMU, so the native transport
    /// can track the guest's writes live through a userfaultfd created inside QEMU. Off, or without the
    /// library, native runs as a paused copy and says why.
    /// </summary>
    public bool PreloadDirtyTracker { get; init; } = true;

    /// <summary>Where probe verdicts are kept for agents started later on the same boot.</summary>
    public string ProbeCacheDirectory { get; init; } = "/var/cache/ferry-agent";
}
