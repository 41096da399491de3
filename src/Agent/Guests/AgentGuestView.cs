using Ferry.Agent.Qemu;

namespace Ferry.Agent.Guests;

/// <summary>
/// What the agent knows of one guest: QEMU's run state (<c>running</c>, <c>inmigrate</c>, ...) when it exists. The
/// agent's view, sent as a <c>GuestStatusReply</c>; the API's REST shape of a guest is <c>Ferry.Api.Guests.GuestView</c>.
/// </summary>
public sealed record AgentGuestView(string Name, bool Exists, string RunState, AcceleratorChoice? Accelerator)
{
    public const string UnknownState = "unknown";

    public static AgentGuestView Absent(string name) => new(name, false, string.Empty, null);
}
