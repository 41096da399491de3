namespace Ferry.Agent.Ovs;

/// <summary>What one OVS command-line tool run printed and returned.</summary>
internal sealed record OvsCommandResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;
}
