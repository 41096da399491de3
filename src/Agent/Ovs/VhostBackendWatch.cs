using System.Text;

namespace Ferry.Agent.Ovs;

/// <summary>
/// Whether each vhost-user port of a guest got a backend in ovs-vswitchd, read from what it logged
/// after the guest's QEMU started. A port's device comes up when the guest's driver starts the NIC:
/// DPDK logs "vHost Device '&lt;socket&gt;' has been added", then OVS reconfigures the port and creates
/// its mempool. Either step can fail with the port still listed and <c>status=connected</c>, and the
/// guest then forwards nothing: seen here as "Failed to create memory pool for netdev lf-1 ... Invalid
/// argument" (no ring mempool driver) and "failed to allocate memory for dev-&gt;mem" (DPDK's heap full).
/// Only the log says so; this reads it.
/// </summary>
internal sealed class VhostBackendWatch
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>After every device was added, how long a failure of its reconfiguration is waited for.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);

    private readonly string _logFile;
    private readonly long _start;

    private VhostBackendWatch(string logFile, long start)
    {
        _logFile = logFile;
        _start = start;
    }

    /// <summary>Starts watching what ovs-vswitchd logs from now on.</summary>
    public static VhostBackendWatch From(string logFile) =>
        new(logFile, File.Exists(logFile) ? new FileInfo(logFile).Length : 0);

    /// <summary>
    /// Waits until ovs-vswitchd added a device for every port and did not fail to configure any.
    /// Returns the log lines that show it; throws with the failing lines otherwise.
    /// </summary>
    /// <exception cref="OvsCommandException">A port failed, or its device never came up within <paramref name="timeout"/>.</exception>
    public async Task<string> WaitAsync(IReadOnlyList<string> ports, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var started = timeProvider.GetTimestamp();
        long? allAddedAt = null;
        while (true)
        {
            var lines = ReadNewLines();
            var failures = lines.Where(line => IsError(line) && ports.Any(port => Names(line, port))).ToList();
            if (failures.Count > 0)
            {
                throw new OvsCommandException($"OVS-DPDK gave no backend to vhost-user port(s) {string.Join(", ", ports)}: {string.Join(" | ", failures.Select(Message).Take(4))}");
            }

            var added = ports.Where(port => lines.Any(line => line.Contains("has been added", StringComparison.Ordinal) && line.Contains($"/{port}'", StringComparison.Ordinal))).ToList();
            if (added.Count == ports.Count)
            {
                allAddedAt ??= timeProvider.GetTimestamp();
                if (timeProvider.GetElapsedTime(allAddedAt.Value) >= Settle)
                {
                    return string.Join(" | ", lines.Where(l => l.Contains("has been added", StringComparison.Ordinal)).Select(Message));
                }
            }
            else if (timeProvider.GetElapsedTime(started) > timeout)
            {
                var errors = lines.Where(IsError).Select(Message).TakeLast(4).ToList();
                throw new OvsCommandException(
                    $"OVS-DPDK brought up no vhost device for port(s) {string.Join(", ", ports.Except(added))} within {timeout.TotalSeconds:0} s of the guest's start" +
                    (errors.Count > 0 ? $"; its last errors: {string.Join(" | ", errors)}" : "; it logged no error"));
            }

            await Task.Delay(PollInterval, timeProvider, cancellationToken);
        }
    }

    /// <summary>
    /// When OVS polled the last of <paramref name="ports"/> after <paramref name="after"/>: for each port,
    /// the first rx-queue assignment ("assigned port 'p'") that follows its device being added. Null when a
    /// port has not come that far yet. OVS logs in UTC with milliseconds.
    /// </summary>
    public DateTimeOffset? FindPortsUp(IReadOnlyList<string> ports, DateTimeOffset after)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var lines = ReadNewLines();
        DateTimeOffset? last = null;
        foreach (var port in ports)
        {
            DateTimeOffset? added = null, polled = null;
            foreach (var line in lines)
            {
                if (Timestamp(line) is not { } at || at < after)
                {
                    continue;
                }

                if (added is null)
                {
                    added = line.Contains("has been added", StringComparison.Ordinal) && line.Contains($"/{port}'", StringComparison.Ordinal) ? at : null;
                }
                else if (line.Contains($"assigned port '{port}'", StringComparison.Ordinal))
                {
                    polled = at;
                    break;
                }
            }

            if (polled is null)
            {
                return null;
            }

            last = last is null || polled > last ? polled : last;
        }

        return last;
    }

    private static DateTimeOffset? Timestamp(string line)
    {
        var bar = line.IndexOf('|', StringComparison.Ordinal);
        return bar > 0 && DateTimeOffset.TryParse(line.AsSpan(0, bar), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var at) ? at : null;
    }

    private List<string> ReadNewLines()
    {
        try
        {
            using var stream = new FileStream(_logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length <= _start)
            {
                return [];
            }

            stream.Seek(_start, SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
    }

    /// <summary>OVS log lines read <c>time|seq|module|LEVEL|message</c>.</summary>
    private static bool IsError(string line) => line.Contains("|ERR|", StringComparison.Ordinal) || line.Contains("|EMER|", StringComparison.Ordinal);

    /// <summary>True when the line is about <paramref name="port"/>: OVS names it as a netdev or an interface, DPDK by its socket path.</summary>
    private static bool Names(string line, string port) =>
        line.Contains($"netdev {port},", StringComparison.Ordinal)
        || line.Contains($"netdev {port} ", StringComparison.Ordinal)
        || line.Contains($"interface {port} ", StringComparison.Ordinal)
        || line.Contains($"/{port})", StringComparison.Ordinal)
        || line.Contains($"({port})", StringComparison.Ordinal)
        || line.Contains($"/{port}'", StringComparison.Ordinal);

    private static string Message(string line)
    {
        var bar = line.LastIndexOf('|');
        return (bar >= 0 ? line[(bar + 1)..] : line).Trim();
    }
}
