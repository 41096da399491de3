using System.Collections.Concurrent;
using System.Globalization;
using Ferry.Transfer.Dirty;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// The userfaultfds this agent took from the processes that write guest RAM (QEMUs, ovs-vswitchd), one
/// per process for its lifetime: UFFDIO_API works once per userfaultfd, so a second migration of the
/// same guest, or through the same switch, must reuse the first one's. Keyed by pid and the process's
/// start time, so a recycled pid never gets another process's descriptor.
/// </summary>
internal sealed class UserfaultfdRegistry : IDisposable
{
    private readonly ConcurrentDictionary<(int Pid, ulong Started), ProcessUserfaultfd> _taken = new();
    private readonly Lock _gate = new();

    /// <summary>The userfaultfd the preload library created in <paramref name="pid"/>, taken on first use.</summary>
    public bool TryGet(int pid, out ProcessUserfaultfd? userfaultfd, out string reason)
    {
        userfaultfd = null;
        if (StartTime(pid) is not { } started)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"process {pid} is gone");
            return false;
        }

        lock (_gate)
        {
            Prune();
            if (_taken.TryGetValue((pid, started), out var known))
            {
                userfaultfd = known;
                reason = "taken before";
                return true;
            }

            if (!ProcessUserfaultfd.TryTake(pid, ProcessUserfaultfd.DefaultDescriptor, out userfaultfd, out reason))
            {
                return false;
            }

            _taken[(pid, started)] = userfaultfd!;
            return true;
        }
    }

    public void Dispose()
    {
        foreach (var userfaultfd in _taken.Values)
        {
            userfaultfd.Dispose();
        }

        _taken.Clear();
    }

    /// <summary>Closes what belongs to processes that are gone.</summary>
    private void Prune()
    {
        foreach (var ((pid, started), userfaultfd) in _taken)
        {
            if (StartTime(pid) != started && _taken.TryRemove((pid, started), out _))
            {
                userfaultfd.Dispose();
            }
        }
    }

    /// <summary>Field 22 of /proc/&lt;pid&gt;/stat: when the process started, in clock ticks since boot.</summary>
    private static ulong? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");

            // pid (comm) state ppid ...: comm may hold spaces and parentheses, so count from the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 && ulong.TryParse(fields[19], CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
