namespace Ferry.Agent.Inventory;

/// <summary>Hugepages of one size, as sysfs counts them (mirrors <c>Ferry.Domain.Hosts.HugepagePool</c>).</summary>
/// <param name="PageSizeKiB">Page size, e.g. 2048 or 1048576.</param>
/// <param name="Total">Pages reserved (<c>nr_hugepages</c>).</param>
/// <param name="Free">Pages not in use (<c>free_hugepages</c>).</param>
public sealed record HugepagePool(long PageSizeKiB, long Total, long Free)
{
    public long FreeMiB => PageSizeKiB * Free / 1024;
}
