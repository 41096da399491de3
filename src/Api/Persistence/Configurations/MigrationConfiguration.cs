using Ferry.Domain.Migrations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ferry.Api.Persistence.Configurations;

internal sealed class MigrationConfiguration : IEntityTypeConfiguration<Migration>
{
    /// <summary>SQL list of the states a migration is active in, for the one-active-migration-per-guest index.</summary>
    internal static readonly string ActiveStatesSql =
        string.Join(", ", MigrationStateMachine.ActiveStates.Select(s => $"'{s}'"));

    public void Configure(EntityTypeBuilder<Migration> b)
    {
        b.ToTable("migrations");
        b.HasKey(m => m.Id);
        b.Property(m => m.GuestName).HasMaxLength(63);
        b.Property(m => m.SourceHostName).HasMaxLength(63);
        b.Property(m => m.TargetHostName).HasMaxLength(63);
        b.Property(m => m.State).HasConversion<string>().HasMaxLength(16);
        b.Property(m => m.VnfInstanceId).HasMaxLength(Ferry.Domain.Guests.Guest.MaxCorrelationIdLength);
        b.Property(m => m.VnfcInstanceId).HasMaxLength(Ferry.Domain.Guests.Guest.MaxCorrelationIdLength);
        // An NFVO lists the migrations of one VNF instance.
        b.HasIndex(m => new { m.VnfInstanceId, m.CreatedAt });
        b.Property(m => m.FailureReason).HasMaxLength(4000);
        b.Property(m => m.TargetEndpoint).HasMaxLength(300);
        b.Property(m => m.PageStreamToken).HasMaxLength(32);
        b.Property(m => m.AbortReason).HasMaxLength(4000);
        // The highest progress sequence applied, so that a report delivered twice is applied once.
        b.Property<long>("LastProgressSequence");
        b.ComplexProperty(m => m.Policy, p =>
        {
            p.Property(x => x.Transport).HasConversion<string>().HasMaxLength(8);
            p.Property(x => x.CompletionTimeoutSecondsPerGiB).HasColumnName("policy_completion_timeout_seconds_per_gib");
        });
        b.Property(m => m.Result).HasJsonConversion();
        b.Property(m => m.Progress).HasJsonConversion();
        // When the last progress event was written, so that samples become events at most every
        // Ferry:Events:ProgressInterval, whichever replica receives them.
        b.Property<DateTimeOffset?>(FerryDbContext.ProgressEventAt);
        b.Property<List<TimelineEntry>>("_timeline").HasColumnName("timeline").HasJsonConversion();
        b.Ignore(m => m.Timeline);
        b.Ignore(m => m.IsTerminal);
        b.Ignore(m => m.EnteredCurrentStateAt);
        b.Ignore(m => m.StartedAt);

        // Optimistic concurrency: PostgreSQL's xmin changes with every update of the row.
        b.Property<uint>("Version").IsRowVersion();


        // At most one active migration per guest, enforced by the database so that concurrent requests cannot both win.
        b.HasIndex(m => m.GuestId).IsUnique().HasFilter($"state IN ({ActiveStatesSql})").HasDatabaseName("ix_migrations_one_active_per_guest");
        // List filters and the scheduler's queue scan.
        b.HasIndex(m => new { m.State, m.CreatedAt });
        b.HasIndex(m => new { m.SourceHostId, m.CreatedAt });
        b.HasIndex(m => new { m.TargetHostId, m.CreatedAt });
        b.HasIndex(m => new { m.GuestId, m.CreatedAt });
        b.HasIndex(m => m.CreatedAt);
    }
}
