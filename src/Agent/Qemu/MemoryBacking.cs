namespace Ferry.Agent.Qemu;

/// <summary>Where guest RAM lives; both are shared files because vhost-user and the native transport map them.</summary>
public enum MemoryBacking
{
    Tmpfs,
    Hugetlbfs,
}
