using Ferry.Domain.Guests;
using Ferry.Domain.Hosts;
using Host = Ferry.Domain.Hosts.Host;
using Ferry.Domain.Migrations;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Persistence;

/// <summary>Ferry's state in PostgreSQL: hosts, guests, migrations and their history, idempotency records.</summary>
internal sealed partial class FerryDbContext(DbContextOptions<FerryDbContext> options) : DbContext(options)
{
    public DbSet<Host> Hosts => Set<Host>();

    public DbSet<Guest> Guests => Set<Guest>();

    public DbSet<Migration> Migrations => Set<Migration>();

    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();

    public DbSet<MigrationLease> MigrationLeases => Set<MigrationLease>();

    public DbSet<MigrationEvent> MigrationEvents => Set<MigrationEvent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(FerryDbContext).Assembly);
}
