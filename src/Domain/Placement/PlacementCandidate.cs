using Ferry.Domain.Hosts;

namespace Ferry.Domain.Placement;

/// <summary>A host considered as a migration target, with its current load.</summary>
/// <param name="Host">The host.</param>
/// <param name="ActiveMigrations">Migrations in flight from or to it.</param>
/// <param name="ActiveInbound">Migrations in flight to it.</param>
public sealed record PlacementCandidate(Host Host, int ActiveMigrations, int ActiveInbound);
