namespace Ferry.Api.Persistence;

/// <summary>
/// Which scheduler instance drives a migration, until when. Kept apart from the migration row so
/// that renewing a lease never changes the row's xmin: a lease renewal must not look like a
/// concurrent change of the migration to the code that is driving it.
/// </summary>
internal sealed class MigrationLease
{
    public required Guid MigrationId { get; init; }

    public required string Owner { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }
}
