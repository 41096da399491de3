using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ferry.Api.Persistence.Configurations;

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> b)
    {
        b.ToTable("idempotency_keys");
        b.HasKey(r => new { r.Client, r.Key });
        b.Property(r => r.Client).HasMaxLength(200);
        b.Property(r => r.Key).HasMaxLength(255);
        b.Property(r => r.RequestHash).HasMaxLength(64);
        // text, not jsonb: a replay must return the very bytes first sent.
        b.Property(r => r.ResponseBody).HasColumnType("text");
        b.HasIndex(r => r.CreatedAt);
    }
}
