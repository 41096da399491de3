namespace Ferry.Agent.Testing;

/// <summary>Where the test-only fault injection may hold a migration (see <see cref="FaultHoldOptions"/>); a no-op unless configured.</summary>
public interface IFaultHold
{
    /// <summary>Waits while the hold file names <paramref name="phase"/>; returns at once when no hold is configured.</summary>
    Task AtAsync(string phase, string migrationId);
}
