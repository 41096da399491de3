using Ferry.Agent.Qemu;

namespace Ferry.Agent.Guests;

/// <summary>What the agent knows of one guest: QEMU's run state (<c>running</c>, <c>inmigrate</c>, ...) when it exists.</summary>
public sealed record GuestView(string Name, bool Exists, string RunState, AcceleratorChoice? Accelerator)
{
    public const string UnknownState = "unknown";

    public static GuestView Absent(string name) => new(name, false, string.Empty, null);
}
