using System.Globalization;

namespace Ferry.EndToEnd.Tests.MakeRun;

/// <summary>What /proc says about processes: their group, session, command line and ignored signals.</summary>
public static class ProcessTable
{
    /// <summary>One live (not zombie) process.</summary>
    public sealed record Entry(int Pid, int ProcessGroup, int Session, string CommandLine);

    /// <summary>Every live process; one that ends while it is read is left out.</summary>
    public static IReadOnlyList<Entry> Snapshot()
    {
        var entries = new List<Entry>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                if (Stat(pid) is not { } stat || stat.State == "Z")
                {
                    continue;
                }

                var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                entries.Add(new Entry(pid, stat.ProcessGroup, stat.Session, commandLine));
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return entries;
    }

    public static int? ProcessGroupOf(int pid) => Stat(pid)?.ProcessGroup;

    /// <summary>The SigIgn mask of <paramref name="pid"/> (bit n-1 for signal n).</summary>
    public static ulong? IgnoredSignals(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            return line is null ? null : ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static (string State, int ProcessGroup, int Session)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }

        // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0], int.Parse(fields[2], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture));
    }
}
