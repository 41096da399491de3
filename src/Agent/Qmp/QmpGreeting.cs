namespace Ferry.Agent.Qmp;

/// <summary>What QEMU announced when the QMP connection opened.</summary>
public sealed record QmpGreeting(int Major, int Minor, int Micro, string Package, IReadOnlyList<string> Capabilities)
{
    public override string ToString() => $"{Major}.{Minor}.{Micro} ({Package})";
}
