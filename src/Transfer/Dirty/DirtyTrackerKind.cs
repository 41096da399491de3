namespace Ferry.Transfer.Dirty;

/// <summary>The kernel mechanisms that can report which guest pages were written.</summary>
public enum DirtyTrackerKind
{
    /// <summary>userfaultfd write-protect in async mode, read and re-armed with PAGEMAP_SCAN (Linux 6.7+).</summary>
    UserfaultfdWriteProtect,

    /// <summary>Soft-dirty bits (clear_refs=4, pagemap bit 55), on kernels with CONFIG_MEM_SOFT_DIRTY.</summary>
    SoftDirty,

    /// <summary>No tracking: the guest is paused for the whole copy, so nothing writes its RAM.</summary>
    GuestPaused,
}
