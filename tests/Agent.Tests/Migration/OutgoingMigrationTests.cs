using System.Net;
using Ferry.Agent.Migration;
using Ferry.Agent.Qmp;
using Ferry.Contracts;
using Ferry.Agent.Migration.Transports;

namespace Ferry.Agent.Tests.Migration;

/// <summary>The progress history every Migrate call reads: ordered, replayable, closed by exactly one end.</summary>
[Trait("Tier", "fast")]
public sealed class OutgoingMigrationTests
{
    private static OutgoingMigration NewMigration(List<MigrationProgress>? forwarded = null) => new(
        new OutgoingMigrationRequest(
            "m-1",
            "guest",
            MigrationUri.Tcp(IPAddress.Loopback, 4444),
            new Uri("http://127.0.0.1:5090"),
            new MigrationSettings(),
            new TransportChoice(Ferry.Domain.Migrations.TransportKind.Qemu, "test")),
        forwarded is null ? null : forwarded.Add);

    private static TransportProgress Sample(long transferred) => new(1, transferred, 100 - transferred, 100, 0, 1);

    [Fact]
    public async Task A_reader_attaching_late_gets_every_message_in_order_then_the_end()
    {
        using var migration = NewMigration();
        migration.Report(Sample(10));
        migration.SwitchingOver();
        migration.Report(Sample(90));
        migration.CleaningUp();
        var end = migration.Seal(new MigrationProgress { Phase = MigrationPhase.Completed });
        migration.Finish(end);

        var read = new List<MigrationProgress>();
        await foreach (var message in migration.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            read.Add(message);
        }

        Assert.Equal([1, 2, 3, 4, 5], read.Select(m => m.Sequence));
        Assert.Equal(
            [MigrationPhase.Running, MigrationPhase.SwitchingOver, MigrationPhase.SwitchingOver, MigrationPhase.CleaningUp, MigrationPhase.Completed],
            read.Select(m => m.Phase));
        Assert.All(read, m => Assert.Equal("m-1", m.MigrationId));
    }

    [Fact]
    public async Task A_reader_waiting_live_sees_messages_as_they_are_published()
    {
        using var migration = NewMigration();
        var reading = Task.Run(async () =>
        {
            var read = new List<MigrationProgress>();
            await foreach (var message in migration.ReadAllAsync(TestContext.Current.CancellationToken))
            {
                read.Add(message);
            }

            return read;
        });

        migration.Report(Sample(10));
        migration.Finish(migration.Seal(new MigrationProgress { Phase = MigrationPhase.Failed, FailureReason = "test" }));

        var messages = await reading.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal([MigrationPhase.Running, MigrationPhase.Failed], messages.Select(m => m.Phase));
    }

    [Fact]
    public void Cancel_is_accepted_while_pages_move_and_refused_once_the_guest_paused()
    {
        using var running = NewMigration();
        Assert.True(running.TryCancel());
        Assert.True(running.CancellationToken.IsCancellationRequested);

        using var pausing = NewMigration();
        pausing.SwitchingOver();
        Assert.False(pausing.TryCancel());
        Assert.False(pausing.CancellationToken.IsCancellationRequested);
    }

    [Fact]
    public void Nothing_is_published_after_the_end_was_sealed_and_phases_are_announced_once()
    {
        var forwarded = new List<MigrationProgress>();
        using var migration = NewMigration(forwarded);
        migration.SwitchingOver();
        migration.SwitchingOver();
        var end = migration.Seal(new MigrationProgress { Phase = MigrationPhase.Cancelled });
        migration.Report(Sample(50));
        migration.CleaningUp();

        Assert.Equal([MigrationPhase.SwitchingOver], forwarded.Select(m => m.Phase));
        Assert.Equal(2, end.Sequence);
        Assert.False(migration.TryCancel());
    }

    [Fact]
    public async Task A_migration_that_never_converges_keeps_a_bounded_number_of_samples_and_every_phase_change()
    {
        using var migration = NewMigration();
        const int published = (OutgoingMigration.SampleLimit * 4) + 3;
        for (var i = 0; i < published; i++)
        {
            migration.Report(Sample(i % 100));
        }

        migration.SwitchingOver();
        for (var i = 0; i < published; i++)
        {
            migration.Report(Sample(i % 100));
        }

        migration.CleaningUp();
        migration.Finish(migration.Seal(new MigrationProgress { Phase = MigrationPhase.Completed }));

        Assert.Equal(OutgoingMigration.SampleLimit + 3, migration.Retained);
        var read = new List<MigrationProgress>();
        await foreach (var message in migration.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            read.Add(message);
        }

        Assert.Equal(OutgoingMigration.SampleLimit + 3, read.Count);
        Assert.True(read.Zip(read.Skip(1)).All(p => p.Second.Sequence > p.First.Sequence), "sequences must only grow");
        Assert.Equal((2 * published) + 3, read[^1].Sequence);
        Assert.Single(read, m => m.Phase == MigrationPhase.SwitchingOver && m.TotalBytes == 0);
        Assert.Single(read, m => m.Phase == MigrationPhase.CleaningUp);
        Assert.Equal(MigrationPhase.Completed, read[^1].Phase);

        // The newest samples are the ones kept.
        Assert.Equal((2 * published) + 1, read.Where(m => m.TotalBytes == 100).Max(m => m.Sequence));
    }

    [Fact]
    public async Task A_reader_that_falls_behind_while_samples_are_dropped_goes_on_from_the_next_kept_one()
    {
        using var migration = NewMigration();
        migration.Report(Sample(1));
        await using var reader = migration.ReadAllAsync(TestContext.Current.CancellationToken).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(1, reader.Current.Sequence);

        for (var i = 0; i < OutgoingMigration.SampleLimit * 2; i++)
        {
            migration.Report(Sample(2));
        }

        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(OutgoingMigration.SampleLimit + 2, reader.Current.Sequence);
    }

    [Fact]
    public async Task Compacting_an_ended_migration_keeps_its_end_alone_and_a_running_one_untouched()
    {
        using var migration = NewMigration();
        migration.Report(Sample(10));
        migration.Compact();
        Assert.Equal(1, migration.Retained);

        migration.CleaningUp();
        var end = migration.Seal(new MigrationProgress { Phase = MigrationPhase.Completed });
        migration.Finish(end);
        migration.Compact();

        Assert.Equal(1, migration.Retained);
        var read = new List<MigrationProgress>();
        await foreach (var message in migration.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            read.Add(message);
        }

        Assert.Equal([end], read);
        Assert.False(migration.TryCancel());
    }
}
