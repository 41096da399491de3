using Ferry.Domain.Hosts;
using Host = Ferry.Domain.Hosts.Host;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ferry.Api.Persistence.Configurations;

internal sealed class HostConfiguration : IEntityTypeConfiguration<Host>
{
    public void Configure(EntityTypeBuilder<Host> b)
    {
        b.ToTable("hosts");
        b.HasKey(h => h.Id);
        b.Property(h => h.Name).HasMaxLength(63);
        b.HasIndex(h => h.Name).IsUnique();
        b.Property(h => h.MigrationAddress).HasMaxLength(255);
        b.Property(h => h.AgentEndpoint).HasMaxLength(300);
        b.Property(h => h.State).HasConversion<string>().HasMaxLength(16);
        b.HasIndex(h => h.State);
        b.Property(h => h.Capabilities).HasJsonConversion();
    }
}
