namespace Ferry.Transfer.Dirty;

/// <summary>A process's shared mapping of a file: addresses [<paramref name="Start"/>, <paramref name="End"/>) show the file from <paramref name="FileOffset"/>.</summary>
internal readonly record struct FileMapping(ulong Start, ulong End, long FileOffset)
{
    public long Length => (long)(End - Start);

    /// <summary>The address of <paramref name="fileOffset"/> in this mapping (callers keep it inside).</summary>
    public ulong AddressOf(long fileOffset) => Start + (ulong)(fileOffset - FileOffset);

    /// <summary>The file offset shown at <paramref name="address"/>.</summary>
    public long FileOffsetOf(ulong address) => FileOffset + (long)(address - Start);
}
