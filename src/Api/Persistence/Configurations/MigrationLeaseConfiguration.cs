using Ferry.Domain.Migrations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ferry.Api.Persistence.Configurations;

internal sealed class MigrationLeaseConfiguration : IEntityTypeConfiguration<MigrationLease>
{
    public void Configure(EntityTypeBuilder<MigrationLease> b)
    {
        b.ToTable("migration_leases");
        b.HasKey(l => l.MigrationId);
        b.Property(l => l.Owner).HasMaxLength(200);
        b.HasOne<Migration>().WithOne().HasForeignKey<MigrationLease>(l => l.MigrationId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(l => l.Owner);
    }
}
