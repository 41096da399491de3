namespace Ferry.Agent.Ovs;

/// <summary>An OVS daemon the agent started has exited without being asked to.</summary>
/// <param name="Daemon"><c>ovsdb-server</c> or <c>ovs-vswitchd</c>.</param>
/// <param name="Pid">Its process id.</param>
/// <param name="ExitCode">Exit code; 128 + signal number when a signal ended it.</param>
/// <param name="LogTail">The end of its log, for the operator.</param>
public sealed record OvsDaemonExit(string Daemon, int Pid, int ExitCode, string LogTail);
