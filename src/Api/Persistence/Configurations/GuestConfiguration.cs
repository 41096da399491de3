using Ferry.Domain.Guests;
using Ferry.Domain.Hosts;
using Host = Ferry.Domain.Hosts.Host;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ferry.Api.Persistence.Configurations;

internal sealed class GuestConfiguration : IEntityTypeConfiguration<Guest>
{
    public void Configure(EntityTypeBuilder<Guest> b)
    {
        b.ToTable("guests");
        b.HasKey(g => g.Id);
        b.Property(g => g.Name).HasMaxLength(63);
        b.HasIndex(g => g.Name).IsUnique();
        b.Property(g => g.State).HasConversion<string>().HasMaxLength(16);
        b.Property(g => g.StateBeforeMigration).HasConversion<string>().HasMaxLength(16);
        b.Property(g => g.VnfInstanceId).HasMaxLength(Guest.MaxCorrelationIdLength);
        b.Property(g => g.VnfcInstanceId).HasMaxLength(Guest.MaxCorrelationIdLength);
        b.Property(g => g.Profile).HasConversion<string>().HasMaxLength(16);
        b.Property<List<string>>("_vhostUserPorts").HasColumnName("vhost_user_ports");
        b.Ignore(g => g.VhostUserPorts);
        // A host with guests cannot be deleted.
        b.HasOne<Host>().WithMany().HasForeignKey(g => g.HostId).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(g => g.HostId);
    }
}
