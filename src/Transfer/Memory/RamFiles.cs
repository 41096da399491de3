using System.Runtime.InteropServices;
using Ferry.Transfer.Interop;

namespace Ferry.Transfer.Memory;

/// <summary>
/// Where guest RAM files live and how they come to be: a directory only this process's user can
/// enter (0700, owned by it; one owned by anyone else is refused, never adopted), and files created
/// exclusively (<c>O_CREAT|O_EXCL|O_NOFOLLOW</c>, mode 0600), so a file or symlink planted at a RAM
/// file's path is an error, not a way into a guest's memory.
/// </summary>
public static unsafe class RamFiles
{
    private const uint PrivateDirectoryMode = 0x1C0; // 0700
    private const uint PrivateFileMode = 0x180; // 0600
    private const uint TypeMask = 0xF000;
    private const uint DirectoryType = 0x4000;

    /// <summary>
    /// Creates <paramref name="path"/> with mode 0700, or checks the directory already there: it must
    /// be a directory (not a symlink) owned by this process's user; a mode open to others is closed.
    /// </summary>
    /// <param name="path">An absolute directory path.</param>
    /// <exception cref="UnauthorizedAccessException">The path is owned by another user, or is no directory.</exception>
    public static void EnsurePrivateDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Libc.Mkdir(path, PrivateDirectoryMode) != 0 && Libc.LastError != Libc.Eexist)
        {
            throw new IOException($"Cannot create the RAM directory {path}: {Libc.Describe(Libc.LastError)}");
        }

        int fd = Libc.Open(path, Libc.ORdOnly | Libc.ODirectory | Libc.ONofollow | Libc.OCloexec, 0);
        if (fd < 0)
        {
            throw new UnauthorizedAccessException($"The RAM directory {path} is not a directory this agent may use (a symlink or a file?): {Libc.Describe(Libc.LastError)}");
        }

        try
        {
            var (mode, owner, _) = Stat(fd, path);
            uint self = Libc.GetEuid();
            if ((mode & TypeMask) != DirectoryType)
            {
                throw new UnauthorizedAccessException($"The RAM directory {path} is not a directory.");
            }

            if (owner != self)
            {
                throw new UnauthorizedAccessException(
                    $"The RAM directory {path} belongs to uid {owner}, not to this agent's user (uid {self}): refused, guest RAM would be readable by its owner. Remove it or name another (Ferry:Qemu:TmpfsDirectory, Ferry:Qemu:HugetlbfsDirectory).");
            }

            if ((mode & 0x3F) != 0 && Libc.Fchmod(fd, PrivateDirectoryMode) != 0)
            {
                throw new IOException($"Cannot close the RAM directory {path} to other users: {Libc.Describe(Libc.LastError)}");
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>
    /// Creates an empty RAM file that must not exist yet, mode 0600, optionally handed to the user a
    /// guest process runs as (it opens the file itself, before it drops its privileges or after).
    /// </summary>
    /// <param name="path">The file to create.</param>
    /// <param name="owner">Uid and gid to give the file; null keeps this process's.</param>
    /// <exception cref="IOException">Something (a file, a symlink) is already at <paramref name="path"/>.</exception>
    public static void CreateExclusive(string path, (uint Uid, uint Gid)? owner = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int fd = Libc.Open(path, Libc.OWrOnly | Libc.OCreat | Libc.OExcl | Libc.ONofollow | Libc.OCloexec, PrivateFileMode);
        if (fd < 0)
        {
            int errno = Libc.LastError;
            throw new IOException(errno == Libc.Eexist
                ? $"The RAM file {path} already exists (or a symlink is there): refused to reuse it."
                : $"Cannot create the RAM file {path}: {Libc.Describe(errno)}");
        }

        try
        {
            // umask may have narrowed the mode further; it can never have widened it.
            if (owner is { } o && Libc.Fchown(fd, o.Uid, o.Gid) != 0)
            {
                throw new IOException($"Cannot give the RAM file {path} to uid {o.Uid}: {Libc.Describe(Libc.LastError)}");
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> with mode 0700 for <paramref name="owner"/>, or checks and takes the
    /// directory already there (a symlink or a file is refused). For files a guest process opens by path
    /// after it dropped its privileges: only that user, and root, enter.
    /// </summary>
    /// <param name="path">An absolute directory path under a root only the agent's user may write.</param>
    /// <param name="owner">Uid and gid to give the directory; null keeps this process's.</param>
    /// <exception cref="UnauthorizedAccessException">A symlink or a non-directory is at <paramref name="path"/>.</exception>
    public static void EnsureDirectoryFor(string path, (uint Uid, uint Gid)? owner)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Libc.Mkdir(path, PrivateDirectoryMode) != 0 && Libc.LastError != Libc.Eexist)
        {
            throw new IOException($"Cannot create the directory {path}: {Libc.Describe(Libc.LastError)}");
        }

        int fd = Libc.Open(path, Libc.ORdOnly | Libc.ODirectory | Libc.ONofollow | Libc.OCloexec, 0);
        if (fd < 0)
        {
            throw new UnauthorizedAccessException($"{path} is not a directory (a symlink or a file?): {Libc.Describe(Libc.LastError)}");
        }

        try
        {
            if ((owner is { } o && Libc.Fchown(fd, o.Uid, o.Gid) != 0) || Libc.Fchmod(fd, PrivateDirectoryMode) != 0)
            {
                throw new IOException($"Cannot make {path} private to uid {owner?.Uid}: {Libc.Describe(Libc.LastError)}");
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>Mode, owner and group of an open file (struct stat's layout differs between x86_64 and AArch64).</summary>
    internal static (uint Mode, uint Uid, uint Gid) Stat(int fd, string path)
    {
        byte* stat = stackalloc byte[256];
        if (Libc.Fstat(fd, stat) != 0)
        {
            throw new IOException($"Cannot stat {path}: {Libc.Describe(Libc.LastError)}");
        }

        return RuntimeInformation.ProcessArchitecture == Architecture.Arm64
            ? (*(uint*)(stat + 16), *(uint*)(stat + 24), *(uint*)(stat + 28))
            : (*(uint*)(stat + 24), *(uint*)(stat + 28), *(uint*)(stat + 32));
    }
}
