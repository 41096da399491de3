using Ferry.Api.Notifications;
using Ferry.Domain.Migrations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ferry.Api.Persistence.Configurations;

internal sealed class SubscriptionConfiguration : IEntityTypeConfiguration<Subscription>
{
    public void Configure(EntityTypeBuilder<Subscription> b)
    {
        b.ToTable("subscriptions");
        b.HasKey(s => s.Id);
        b.Property(s => s.Owner).HasMaxLength(300);
        b.Property(s => s.CallbackUri).HasMaxLength(SubscriptionRequestRules.MaxUriLength);
        b.Property(s => s.FilterJson).HasColumnName("filter").HasColumnType("text");
        b.Property(s => s.Verbosity).HasMaxLength(8);
        b.Property(s => s.LastError).HasMaxLength(1000);
        // The same callback and filter from the same client is the same subscription (answered 303).
        b.HasIndex(s => new { s.Owner, s.CallbackUri, s.FilterJson }).IsUnique();
        b.HasIndex(s => new { s.Owner, s.CreatedAt });
    }
}

internal sealed class OutboxNotificationConfiguration : IEntityTypeConfiguration<OutboxNotification>
{
    public void Configure(EntityTypeBuilder<OutboxNotification> b)
    {
        b.ToTable("notification_outbox");
        b.HasKey(n => n.Id);
        b.Property(n => n.Id).UseIdentityByDefaultColumn();
        b.Property(n => n.LastError).HasMaxLength(1000);
        b.Property(n => n.Payload).HasColumnType("json");
        b.HasOne<Subscription>().WithMany().HasForeignKey(n => n.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Migration>().WithMany().HasForeignKey(n => n.MigrationId).OnDelete(DeleteBehavior.Cascade);
        // The claim reads what is due and finds, per subscriber and migration, whether an earlier one is still pending.
        b.HasIndex(n => n.NextAttemptAt).HasFilter("dead_at IS NULL");
        b.HasIndex(n => new { n.SubscriptionId, n.MigrationId, n.Id });
    }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> b)
    {
        b.ToTable("data_protection_keys");
        b.HasKey(k => k.Id);
        b.Property(k => k.Xml).HasColumnType("text");
    }
}
