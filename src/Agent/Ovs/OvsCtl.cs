using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Ferry.Agent.Ovs;

/// <summary>
/// The plumbing under every OVS command the switch runs: ovs-vsctl against its database, ovs-ofctl
/// against a bridge's OpenFlow socket, ovs-appctl against a daemon's control socket, and the other
/// tools the switch needs (ovsdb-tool, ip). Each runs with an argument array (never a shell), the
/// switch's own <c>OVS_*</c> environment and the <see cref="OvsOptions.CommandTimeout"/> limit. A
/// tool's exit code and output come back as a value from the <c>Run...</c> methods; the others turn a
/// non-zero exit into an <see cref="OvsCommandException"/> that names the command and what it printed.
/// A tool that cannot start or outlives its limit is an <see cref="OvsCommandException"/> either way.
/// </summary>
internal sealed partial class OvsCtl
{
    private readonly OvsOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private long _vsctlRuns;

    public OvsCtl(OvsOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        Environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            // ovs_rundir() decides where unixctl sockets and, with vhost-sock-dir unset, vhost-user
            // sockets go; the others keep the tools away from the system's /etc and /var.
            ["OVS_RUNDIR"] = options.RunDirectory,
            ["OVS_DBDIR"] = options.RunDirectory,
            ["OVS_LOGDIR"] = options.LogDirectory,
            ["OVS_SYSCONFDIR"] = options.RunDirectory,
        };
    }

    /// <summary>The environment of every tool and daemon of the agent's own switch.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; }

    /// <summary>The database ovs-vsctl talks to (<c>unix:...db.sock</c>); null until the switch found or started one.</summary>
    public string? DbTarget { get; set; }

    /// <summary>
    /// A socket ovs-vswitchd makes in its run directory (a bridge's <c>.mgmt</c> for ovs-ofctl), as a
    /// <c>unix:</c> target: the run directory is where the database socket of <see cref="DbTarget"/> is,
    /// for the agent's own switch and the host's alike.
    /// </summary>
    public string BesideDatabase(string fileName)
    {
        var dbSocket = (DbTarget ?? throw new InvalidOperationException("No OVS database yet."))["unix:".Length..];
        return "unix:" + Path.Combine(Path.GetDirectoryName(dbSocket)!, fileName);
    }

    /// <summary>How many times ovs-vsctl ran: lets tests prove a hostile name never reached it.</summary>
    public long VsctlRuns => Interlocked.Read(ref _vsctlRuns);

    /// <summary>Runs ovs-vsctl against <see cref="DbTarget"/> and returns its output; a non-zero exit is an <see cref="OvsCommandException"/>.</summary>
    public async Task<string> VsctlAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await RunVsctlAsync(arguments, cancellationToken);
        if (!result.Succeeded)
        {
            throw new OvsCommandException($"{ChildProcess.Describe(_options.VsctlBinary, arguments)} failed ({result.ExitCode}): {result.Error.Trim()}");
        }

        return result.Output;
    }

    /// <summary>Runs ovs-vsctl against <see cref="DbTarget"/>; its exit code is the caller's to judge.</summary>
    public Task<ChildProcessRun> RunVsctlAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _vsctlRuns);

        // ovs-vsctl's own --timeout makes it give up cleanly (and say why) before the agent kills it.
        var seconds = Math.Max(1, (int)_options.CommandTimeout.TotalSeconds - 1).ToString(CultureInfo.InvariantCulture);
        return RunAsync(_options.VsctlBinary, [$"--db={DbTarget}", $"--timeout={seconds}", .. arguments], cancellationToken);
    }

    /// <summary>Runs ovs-ofctl; a non-zero exit is an <see cref="OvsCommandException"/>.</summary>
    public async Task OfctlAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await RunAsync(_options.OfctlBinary, arguments, cancellationToken);
        if (!result.Succeeded)
        {
            throw new OvsCommandException($"{ChildProcess.Describe(_options.OfctlBinary, arguments)} failed ({result.ExitCode}): {result.Error.Trim()}");
        }
    }

    /// <summary>Runs ovs-appctl against the daemon whose control socket is <paramref name="control"/>.</summary>
    public Task<ChildProcessRun> RunAppctlAsync(string control, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        RunAsync(_options.AppctlBinary, [$"--target={control}", .. arguments], cancellationToken);

    /// <summary>Runs any other tool the switch needs (ovsdb-tool, ip) with the switch's environment and limit.</summary>
    public async Task<ChildProcessRun> RunAsync(string binary, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var run = await ChildProcess.RunAsync(new ChildProcessStart(binary, arguments) { Environment = Environment }, _options.CommandTimeout, _timeProvider, cancellationToken);
        if (run.Failure is { } failure)
        {
            throw new OvsCommandException(failure);
        }

        Log.Ran(_logger, ChildProcess.Describe(binary, arguments), run.ExitCode);
        return run;
    }

    /// <summary>The lines of a tool's output, trimmed, without empty ones: how ovs-vsctl prints one value per column asked for.</summary>
    public static string[] Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// An OVSDB string atom in double quotes, the form ovs-vsctl parses as one value even with spaces,
    /// colons or commas in it. Control characters never get here: options validation refuses them.
    /// </summary>
    public static string Quote(string value) =>
        $"\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";

    /// <summary>
    /// Parses an OVSDB map as ovs-vsctl prints it: <c>{features="0x..", mode=server, status=connected}</c>.
    /// Values of the status column hold no commas or braces.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ParseMap(string output)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var body = output.Trim().TrimStart('{').TrimEnd('}');
        foreach (var pair in body.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                map[pair[..equals].Trim('"')] = pair[(equals + 1)..].Trim('"');
            }
        }

        return map;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = AgentEventIds.OvsToolRan, Level = LogLevel.Debug, Message = "{Command} exited with {ExitCode}")]
        public static partial void Ran(ILogger logger, string command, int exitCode);
    }
}
