namespace Ferry.Transfer.Memory;

/// <summary>Device and inode of a file, the way /proc/&lt;pid&gt;/maps names a mapping's backing file.</summary>
internal readonly record struct FileIdentity(uint Major, uint Minor, ulong Inode);
