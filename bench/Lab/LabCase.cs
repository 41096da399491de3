namespace Ferry.Lab;

/// <summary>One of the origin document's two cases and the guest that plays it.</summary>
/// <param name="Name">The case as the table and the JSON lines name it: <c>idle</c> or <c>l2fwd</c>.</param>
/// <param name="Guest">The guest's name in Ferry.</param>
/// <param name="Profile">The API's guest profile: <c>idle</c> or <c>forwarder</c>.</param>
/// <param name="Ports">Its two vhost-user ports.</param>
/// <param name="MemoryMiB">RAM.</param>
/// <param name="Vcpus">Virtual CPUs.</param>
/// <param name="Forwards">Whether frames cross the guest, so a network probe can measure its downtime.</param>
internal sealed record LabCase(string Name, string Guest, string Profile, IReadOnlyList<string> Ports, int MemoryMiB, int Vcpus, bool Forwards)
{
    public static LabCase Idle(int memoryMiB) => new("idle", "lab-idle", "idle", ["li-0", "li-1"], memoryMiB, 1, Forwards: false);

    public static LabCase L2Forwarding { get; } = new("l2fwd", "lab-fwd", "forwarder", ["lf-0", "lf-1"], 128, 1, Forwards: true);

    public static LabCase Named(string name, LabOptions options) => name switch
    {
        "idle" => Idle(options.IdleMemoryMiB),
        "l2fwd" => L2Forwarding,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such case"),
    };
}
