namespace Ferry.Transfer.Interop;

/// <summary>
/// fsync(2) of a directory: after a file was created or renamed in it, the new entry reaches the disk
/// only with the directory's own flush. A file flushed with <c>Flush(true)</c> and renamed into place
/// can still vanish in a power cut without it (ext4 and XFS both document this).
/// </summary>
public static class DirectorySync
{
    /// <summary>Flushes the entries of <paramref name="directory"/> to its disk.</summary>
    /// <param name="directory">An existing directory.</param>
    /// <exception cref="IOException">The directory cannot be opened or flushed.</exception>
    public static void Flush(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        int fd = Libc.Open(directory, Libc.ORdOnly | Libc.ODirectory | Libc.OCloexec, 0);
        if (fd < 0)
        {
            throw new IOException($"open({directory}) failed: {Libc.Describe(Libc.LastError)}");
        }

        try
        {
            if (Libc.Fsync(fd) != 0)
            {
                throw new IOException($"fsync({directory}) failed: {Libc.Describe(Libc.LastError)}");
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
