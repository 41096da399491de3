using Ferry.Agent.Qemu;
using Ferry.Agent.Migration;

namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>The engine's page size for a guest's RAM file; both ends derive it the same way, and the handshake checks it.</summary>
internal static class NativePaging
{
    public static int PageSize(MemoryBacking backing) => backing == MemoryBacking.Hugetlbfs ? 2 * 1024 * 1024 : Environment.SystemPageSize;
}
