using Ferry.Domain.Migrations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ferry.Api.Persistence.Configurations;

internal sealed class MigrationEventConfiguration : IEntityTypeConfiguration<MigrationEvent>
{
    public void Configure(EntityTypeBuilder<MigrationEvent> b)
    {
        b.ToTable("migration_events");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).UseIdentityByDefaultColumn();
        b.Property(e => e.Kind).HasMaxLength(8);
        b.Property(e => e.State).HasConversion<string>().HasMaxLength(16);
        // json, not jsonb: the stream sends the text as written, with the REST view's key order.
        b.Property(e => e.Data).HasColumnType("json");
        b.HasOne<Migration>().WithMany().HasForeignKey(e => e.MigrationId).OnDelete(DeleteBehavior.Cascade);
        // A migration's stream reads its events after a position, the stream of all migrations the log after one.
        b.HasIndex(e => new { e.MigrationId, e.Position });
        b.HasIndex(e => e.Position).IsUnique();
        // The sequencer's work: the rows without a position, in insert order.
        b.HasIndex(e => e.Id).HasFilter("position IS NULL").HasDatabaseName("ix_migration_events_unpositioned");
    }
}
