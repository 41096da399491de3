namespace Ferry.Agent.Migration.Transports.Native;

/// <summary>
/// The engine's page size for a guest's RAM file; both ends derive it the same way, and the handshake
/// checks it. Always the system page, hugetlbfs included: a tracker reports a written 2 MiB huge page
/// whole, and in 4 KiB pages the engine sends only those of it whose content changed
/// (<see cref="Transfer.Migration.MigrationOptions.SkipUnchangedPages"/>) instead of all 2 MiB.
/// </summary>
internal static class NativePaging
{
    public static int PageSize => Environment.SystemPageSize;
}
