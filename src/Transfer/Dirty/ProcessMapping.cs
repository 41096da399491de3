using System.Globalization;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Dirty;

/// <summary>Where a process has a RAM file mapped, found in /proc/&lt;pid&gt;/maps by device and inode.</summary>
/// <param name="Start">First address of the mapping of file offset 0.</param>
/// <param name="Length">Length of the mapping in bytes.</param>
internal readonly record struct ProcessMapping(ulong Start, long Length)
{
    /// <summary>
    /// Every shared mapping of <paramref name="file"/> in process <paramref name="pid"/>, whatever its
    /// offset and length (DPDK maps a guest's RAM once per memory region QEMU announces, from file
    /// offset 0 to the region's end); null, with the reason, when the process's maps cannot be read.
    /// </summary>
    public static List<FileMapping>? FindAll(int pid, FileIdentity file, out string reason)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/maps");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"cannot read /proc/{pid}/maps: {e.Message}";
            return null;
        }

        var mappings = new List<FileMapping>();
        foreach (string line in lines)
        {
            if (Parse(line, file) is { } mapping)
            {
                mappings.Add(mapping);
            }
        }

        reason = "read";
        return mappings;
    }

    /// <summary>One line of /proc/&lt;pid&gt;/maps when it is a shared mapping of <paramref name="file"/>.</summary>
    private static FileMapping? Parse(string line, FileIdentity file)
    {
        // start-end perms offset major:minor inode path
        var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 5 || !ulong.TryParse(fields[4], CultureInfo.InvariantCulture, out ulong inode) || inode != file.Inode
            || fields[1].Length < 4 || fields[1][3] != 's')
        {
            return null;
        }

        var device = fields[3].Split(':');
        var range = fields[0].Split('-');
        if (device.Length != 2 || range.Length != 2
            || !uint.TryParse(device[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint major) || major != file.Major
            || !uint.TryParse(device[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint minor) || minor != file.Minor
            || !ulong.TryParse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start)
            || !ulong.TryParse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong end)
            || !long.TryParse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long offset) || end <= start)
        {
            return null;
        }

        return new FileMapping(start, end, offset);
    }

    public static ProcessMapping? Find(int pid, FileIdentity file, long size, out string reason)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{pid}/maps");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"cannot read /proc/{pid}/maps: {e.Message}";
            return null;
        }

        reason = $"process {pid} has no shared mapping of the whole RAM file";

        foreach (string line in lines)
        {
            // start-end perms offset major:minor inode path
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5 || !ulong.TryParse(fields[4], CultureInfo.InvariantCulture, out ulong inode) || inode != file.Inode)
            {
                continue;
            }

            var device = fields[3].Split(':');
            var range = fields[0].Split('-');
            if (device.Length != 2 || range.Length != 2
                || uint.Parse(device[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture) != file.Major
                || uint.Parse(device[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) != file.Minor
                || ulong.Parse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture) != 0
                || fields[1].Length < 4 || fields[1][3] != 's')
            {
                continue;
            }

            ulong start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if ((long)(end - start) == size)
            {
                reason = "found";
                return new ProcessMapping(start, size);
            }
        }

        return null;
    }
}
