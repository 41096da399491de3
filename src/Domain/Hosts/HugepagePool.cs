namespace Ferry.Domain.Hosts;

/// <summary>Hugepages of one size on a host.</summary>
/// <param name="PageSizeKiB">Page size, e.g. 2048 or 1048576.</param>
/// <param name="Total">Pages reserved.</param>
/// <param name="Free">Pages not in use.</param>
public sealed record HugepagePool(long PageSizeKiB, long Total, long Free)
{
    /// <summary>Free memory in this pool, MiB.</summary>
    public long FreeMiB => PageSizeKiB * Free / 1024;
}
