using System.Globalization;
using Ferry.Agent.Migration.Transports.Native;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.TestGuest;
using Ferry.Agent.Tests.Support;
using Ferry.Contracts;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using static Ferry.Agent.Tests.Support.AgentCalls;

namespace Ferry.Agent.Tests.Migration.Transports.Native;

/// <summary>
/// The native transport between two real agents with real QEMU guests (TCG here) on real tmpfs RAM
/// files: the engine copies the RAM file, QEMU's device state follows with x-ignore-shared, the guest
/// resumes at the target, and the page counter's memory invariant is checked there.
/// </summary>
public sealed class NativeQemuMigrationTests
{
    /// <summary>An agent whose QEMUs start without the preload library: no tracker sees their writes, so native is a paused copy.</summary>
    private static readonly Dictionary<string, string?> WithoutTracker = new() { ["Ferry:Qemu:PreloadDirtyTracker"] = "false" };

    [Theory]
    [InlineData(256)]
    [InlineData(1024)]
    public async Task A_page_counter_guest_moves_natively_as_a_paused_copy_resumes_at_the_target_and_its_memory_invariant_holds(int memoryMiB)
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url, settings: WithoutTracker);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("counter", memoryMiB);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        var source = a.Qemu("counter");
        await QemuHost.WaitUntilCountingAsync(source);
        var verdict = a.Services.GetRequiredService<IQemuGuestTracking>().ForGuest(source);
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { Transport = Transport.Native, ParallelStreams = 2 };

        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call(120));
        Assert.Equal(Transport.Native, target.Transport);
        Assert.Equal(target.Port, target.PageStreamPort);
        Assert.Equal(PageStreamCredentials.TokenSize, target.PageStreamToken.Length);
        Assert.Equal("inmigrate", (await b.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "counter" }, Call())).RunState);
        var messages = await MigrateToEndAsync(a.Client, WithEngine(Migrate(id, "counter", target, b, policy), target));
        var end = messages[^1];
        Report($"{memoryMiB} MiB page counter, native paused copy", end);

        Assert.Equal(MigrationPhase.Completed, end.Phase);
        AssertOrdered(messages);
        Assert.Contains(messages, m => m.Phase == MigrationPhase.SwitchingOver);
        Assert.Contains(messages, m => m.Phase == MigrationPhase.CleaningUp);
        Assert.True(end.GuestOnTarget);
        var stats = end.Stats;
        Assert.Equal(Transport.Native, stats.Transport);
        Assert.Contains("paused copy", stats.TransportReason, StringComparison.Ordinal);
        Assert.False(verdict.Available);
        Assert.Contains(verdict.Reason, stats.TransportReason, StringComparison.Ordinal);

        // The guest was paused for the whole copy: connecting the streams already counts as downtime.
        Assert.True(stats.DowntimeMs > 0 && stats.DowntimeMs <= stats.TotalTimeMs, $"downtime {stats.DowntimeMs} ms of {stats.TotalTimeMs} ms");
        Assert.True(stats.DowntimeMs >= stats.SetupTimeMs, $"downtime {stats.DowntimeMs} ms, setup {stats.SetupTimeMs} ms");
        Assert.True(stats.NormalPages >= PageCounterRange.ForGuest(memoryMiB).Pages, $"only {stats.NormalPages} pages sent");
        Assert.True(stats.CleanupTimeMs > 0);

        // The source is gone, RAM file and all; the target runs and keeps counting on the RAM the engine wrote.
        await source.Exited.WaitAsync(TestContext.Current.CancellationToken);
        Assert.False(File.Exists(source.Layout.RamFile));
        Assert.False((await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "counter" }, Call())).Exists);
        Assert.Equal("running", (await b.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "counter" }, Call())).RunState);
        var moved = b.Qemu("counter");
        await WaitUntilCounterMovesAsync(moved);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(moved);
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);
    }

    /// <summary>
    /// A guest may be moved at any moment of its life, also while its firmware still runs: the target
    /// continues where the source stopped, so across both QEMUs the guest boots exactly once.
    /// </summary>
    [Fact]
    public async Task A_guest_moved_natively_right_after_launch_boots_once_across_both_hosts_and_its_memory_invariant_holds()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url, settings: WithoutTracker);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        // The target first, so that the source is paused within moments of its launch, in its BIOS or its first sweeps.
        var guest = PageCounter("early", 128);
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { Transport = Transport.Native, ParallelStreams = 2 };
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call(120));
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        var source = a.Qemu("early");
        int? sourceBoots = null;
        var messages = await MigrateToEndAsync(a.Client, WithEngine(Migrate(id, "early", target, b, policy), target), async progress =>
        {
            // A pass is reported only after the copy that a paused guest waits through: the source's log is final.
            if (sourceBoots is null && progress.Pass >= 1)
            {
                sourceBoots = PageCounterBootSector.Boots(await source.ReadSerialLogAsync(TestContext.Current.CancellationToken));
            }
        });
        Report("page counter moved natively right after launch", messages[^1]);

        Assert.Equal(MigrationPhase.Completed, messages[^1].Phase);
        Assert.NotNull(sourceBoots);
        var moved = b.Qemu("early");
        await WaitUntilCounterMovesAsync(moved);
        var targetBoots = 0;
        for (var attempt = 0; attempt < 200 && sourceBoots + targetBoots == 0; attempt++)
        {
            // Paused in its BIOS: the boot sector runs at the target.
            await Task.Delay(50, TestContext.Current.CancellationToken);
            targetBoots = PageCounterBootSector.Boots(await moved.ReadSerialLogAsync(TestContext.Current.CancellationToken));
        }

        await moved.Qmp.StopAsync(TestContext.Current.CancellationToken);
        targetBoots = PageCounterBootSector.Boots(await moved.ReadSerialLogAsync(TestContext.Current.CancellationToken));
        var invariant = await MemoryInvariant.CheckRamFileAsync(moved.Layout.RamFile, PageCounterRange.ForGuest(128), TestContext.Current.CancellationToken);
        TestContext.Current.SendDiagnosticMessage($"boots: {sourceBoots} before the pause at the source, {targetBoots} at the target; {invariant}");
        Assert.Equal(1, sourceBoots + targetBoots);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task Auto_picks_qemu_for_a_qemu_guest_when_no_tracker_covers_it_and_the_record_says_why()
    {
        await using var api = await FakeControlPlane.StartAsync();

        // A QEMU started without the preload library has no userfaultfd to track it by.
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url, settings: WithoutTracker);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("auto", 64);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        var source = a.Qemu("auto");
        await QemuHost.WaitUntilCountingAsync(source);
        var verdict = a.Services.GetRequiredService<IQemuGuestTracking>().ForGuest(source);
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, Transport = Transport.Auto };

        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call());
        var end = (await MigrateToEndAsync(a.Client, WithEngine(Migrate(id, "auto", target, b, policy), target)))[^1];
        Report("auto for a QEMU without a tracker", end);

        Assert.False(verdict.Available);
        Assert.Equal(MigrationPhase.Completed, end.Phase);
        Assert.Equal(Transport.Qemu, end.Stats.Transport);
        Assert.StartsWith($"auto: qemu, because {verdict.Reason}; QEMU's stream in plain TCP", end.Stats.TransportReason, StringComparison.Ordinal);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(b.Qemu("auto"));
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task Auto_picks_live_native_when_a_tracker_covers_every_writer_and_the_record_names_the_tracker()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var host = a.Services.GetRequiredService<IQemuGuestTracking>().ForHost();
        if (!host.Available)
        {
            Assert.Skip($"no dirty tracker for QEMU guests here: {host.Reason}");
        }

        var guest = PageCounter("autolive", 64);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        var source = a.Qemu("autolive");
        await QemuHost.WaitUntilCountingAsync(source);
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { MaxDowntimeMs = 500, Transport = Transport.Auto };

        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call());
        var end = (await MigrateToEndAsync(a.Client, WithEngine(Migrate(id, "autolive", target, b, policy), target)))[^1];
        Report("auto with a tracker", end);

        Assert.Equal(Transport.Auto, target.Transport);
        Assert.Equal(MigrationPhase.Completed, end.Phase);
        Assert.Equal(Transport.Native, end.Stats.Transport);
        Assert.StartsWith("auto: native, because ", end.Stats.TransportReason, StringComparison.Ordinal);
        Assert.Contains(host.Kind == Ferry.Transfer.Dirty.DirtyTrackerKind.UserfaultfdWriteProtect ? "uffd-wp" : "soft-dirty", end.Stats.TransportReason, StringComparison.Ordinal);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(b.Qemu("autolive"));
        Assert.True(invariant.Holds, invariant.ToString());
    }

    /// <summary>
    /// Live: the counter keeps running through at least two passes, on 4 KiB shmem and on 2 MiB hugetlbfs,
    /// under TCG and under KVM where this machine's KVM runs firmware-level guests. The RAM check proves the
    /// target got the last version of every page; the invariant and the boot count, that the guest went on
    /// where it stopped.
    /// </summary>
    [Theory]
    [InlineData(0, "tcg")]
    [InlineData(2048, "tcg")]
    [InlineData(0, "kvm")]
    [InlineData(2048, "kvm")]
    public async Task A_live_native_migration_of_a_qemu_guest_runs_dirty_passes_and_its_memory_invariant_holds(int hugepageKiB, string accelerator)
    {
        if (hugepageKiB > 0)
        {
            await Ovs.OvsTestSwitch.ReserveHugepagesAsync();
        }

        await using var api = await FakeControlPlane.StartAsync();
        Dictionary<string, string?> settings = accelerator == "tcg" ? new() { ["Ferry:Qemu:ForceAccelerator"] = "Tcg" } : [];
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url, settings: settings);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url, settings: settings);
        var chosen = a.Services.GetRequiredService<IQemuLauncher>().AcceleratorFor(GuestKind.Firmware);
        if (accelerator == "kvm" && chosen.Accelerator != Accelerator.Kvm)
        {
            Assert.Skip($"no usable KVM here: {chosen.Reason}");
        }

        var host = a.Services.GetRequiredService<IQemuGuestTracking>().ForHost();
        if (!host.Available)
        {
            Assert.Skip($"live native passes for QEMU guests need a dirty tracker: {host.Reason}");
        }

        var guest = PageCounter("live", 256);
        guest.HugepageSizeKib = hugepageKiB;
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        var source = a.Qemu("live");
        await QemuHost.WaitUntilCountingAsync(source);
        var id = Guid.NewGuid().ToString();

        // The counter rewrites every page per sweep; a generous budget lets the loop converge under TCG.
        var policy = new MigrationPolicy { Transport = Transport.Native, MaxDowntimeMs = 2000, ParallelStreams = 2 };
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call(120));
        var end = (await MigrateToEndAsync(a.Client, WithEngine(Migrate(id, "live", target, b, policy), target)))[^1];
        Report($"256 MiB page counter ({(hugepageKiB > 0 ? "2 MiB hugetlbfs" : "4 KiB shmem")}, {chosen.Name}), native live", end);

        Assert.Equal(MigrationPhase.Completed, end.Phase);
        Assert.Contains("live passes", end.Stats.TransportReason, StringComparison.Ordinal);
        Assert.True(end.Stats.Passes >= 2, $"{end.Stats.Passes} passes");
        Assert.StartsWith("RAM check: all ", end.Stats.RamCheck, StringComparison.Ordinal);
        await source.Exited.WaitAsync(TestContext.Current.CancellationToken);
        var moved = b.Qemu("live");
        await WaitUntilCounterMovesAsync(moved);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(moved);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    /// <summary>
    /// One guest moves four times, native and qemu in turn, between the same two agents: each QEMU must
    /// leave behind what the transport before it set (a native arrival's x-ignore-shared once made the
    /// qemu move after it fail at switch-over). After every move the counter runs at its new host, and
    /// paused there for a moment its memory invariant holds; the native moves prove every page arrived.
    /// </summary>
    [Fact]
    public async Task A_guest_moves_native_qemu_native_qemu_between_two_hosts_and_its_memory_invariant_holds_after_every_move()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("shuttle", 128);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("shuttle"));
        var moves = new[] { (Transport.Native, a, b), (Transport.Qemu, b, a), (Transport.Native, a, b), (Transport.Qemu, b, a) };

        foreach (var (number, (transport, from, to)) in moves.Index().Select(m => (m.Index + 1, m.Item)))
        {
            var id = Guid.NewGuid().ToString();
            var policy = new MigrationPolicy { Transport = transport, MaxDowntimeMs = 500, ParallelStreams = 2 };
            var target = await to.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call(120));
            var request = Migrate(id, "shuttle", target, to, policy);
            var end = (await MigrateToEndAsync(from.Client, transport == Transport.Native ? WithEngine(request, target) : request))[^1];
            Report($"move {number}: {transport} {from.HostName} -> {to.HostName}", end);

            Assert.True(end.Phase == MigrationPhase.Completed, $"move {number} ({transport}): {end.Phase}: {end.FailureReason}");
            Assert.True(end.GuestOnTarget, $"move {number}");
            Assert.Equal(transport, end.Stats.Transport);
            if (transport == Transport.Native)
            {
                Assert.StartsWith("RAM check: all ", end.Stats.RamCheck, StringComparison.Ordinal);
            }

            Assert.False((await from.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "shuttle" }, Call())).Exists, $"move {number}: the guest is still on {from.HostName}");
            var moved = to.Qemu("shuttle");
            await WaitUntilCounterMovesAsync(moved);
            await moved.Qmp.StopAsync(TestContext.Current.CancellationToken);
            var invariant = await MemoryInvariant.CheckRamFileAsync(moved.Layout.RamFile, PageCounterRange.ForGuest(128), TestContext.Current.CancellationToken);
            var boots = PageCounterBootSector.Boots(await moved.ReadSerialLogAsync(TestContext.Current.CancellationToken));
            Assert.True(invariant.Holds, $"after move {number} ({transport}): {invariant}");
            Assert.True(boots == 0, $"after move {number} ({transport}) the guest booted again at {to.HostName}");
            await moved.Qmp.ContAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_wrong_page_stream_token_is_refused_the_source_keeps_running_and_a_later_qemu_migration_still_moves_its_ram()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("intruder", 64);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("intruder"));
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { Transport = Transport.Native };
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call());
        var targetRam = b.Qemu("intruder").Layout.RamFile;
        var request = Migrate(id, "intruder", target, b, policy);
        request.PageStreamToken = ByteString.CopyFrom(PageStreamCredentials.NewToken());

        var end = (await MigrateToEndAsync(a.Client, request))[^1];
        Report("wrong token", end);

        Assert.Equal(MigrationPhase.Failed, end.Phase);
        Assert.Contains("DestinationNotAuthenticated", end.FailureReason, StringComparison.Ordinal); // the source checks the target's proof first
        Assert.False(end.GuestOnTarget);
        Assert.Equal("running", (await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "intruder" }, Call())).RunState);
        Assert.False((await b.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "intruder" }, Call())).Exists);
        Assert.False(File.Exists(targetRam));

        // The failed attempt configured the source for device state only; QEMU's own loop must send the RAM again.
        var retry = Guid.NewGuid().ToString();
        var qemu = new MigrationPolicy { Transport = Transport.Qemu, MaxDowntimeMs = 500 };
        var second = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = retry, Guest = guest, Policy = qemu }, Call());
        var moved = (await MigrateToEndAsync(a.Client, Migrate(retry, "intruder", second, b, qemu)))[^1];
        Assert.True(moved.Phase == MigrationPhase.Completed, $"{moved.Phase}: {moved.FailureReason}");
        Assert.True(moved.Stats.NormalPages >= PageCounterRange.ForGuest(64).Pages, $"only {moved.Stats.NormalPages} pages sent");
        var invariant = await QemuHost.StopAndCheckInvariantAsync(b.Qemu("intruder"));
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);
    }

    [Fact]
    public async Task A_target_told_its_source_takes_no_page_stream_from_another_address_and_the_source_keeps_running()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("bound", 64);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("bound"));
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { Transport = Transport.Native };

        // The source connects from 127.0.0.1; the target was told its source is 127.0.0.2.
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy, SourceAddress = "127.0.0.2" }, Call());
        var end = (await MigrateToEndAsync(a.Client, WithEngine(Migrate(id, "bound", target, b, policy), target)))[^1];
        Report("page stream from an address the target was not told of", end);

        Assert.Equal(MigrationPhase.Failed, end.Phase);
        Assert.False(end.GuestOnTarget);
        Assert.Equal("running", (await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "bound" }, Call())).RunState);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(a.Qemu("bound"));
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task Cancelling_a_paused_copy_resumes_the_source_with_its_memory_intact_and_tears_the_target_down()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url, settings: WithoutTracker);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("halted", 128);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("halted"));
        var id = Guid.NewGuid().ToString();

        // 40 Mbit/s: the 128 MiB copy would take half a minute, the guest paused all along.
        var policy = new MigrationPolicy { Transport = Transport.Native, BandwidthMbps = 40 };
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy }, Call());
        var migrating = MigrateToEndAsync(a.Client, WithEngine(Migrate(id, "halted", target, b, policy), target));
        while ((await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "halted" }, Call())).RunState == "running")
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        var cancel = await a.Client.CancelAsync(new CancelRequest { MigrationId = id }, Call());
        var messages = await migrating;
        var end = messages[^1];
        Report("cancelled paused copy", end);

        Assert.True(cancel.Cancelled, end.ToString());
        Assert.Equal(MigrationPhase.Cancelled, end.Phase);
        Assert.False(end.GuestOnTarget);
        Assert.DoesNotContain(messages, m => m.Phase == MigrationPhase.SwitchingOver);
        Assert.Equal("running", (await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "halted" }, Call())).RunState);
        Assert.False((await b.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "halted" }, Call())).Exists);
        var source = a.Qemu("halted");
        await WaitUntilCounterMovesAsync(source);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(source);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task The_target_takes_the_apis_token_and_native_without_it_fails_before_pausing_and_the_source_keeps_running()
    {
        await using var api = await FakeControlPlane.StartAsync();
        await using var a = await AgentTestHost.StartAsync("host-a", api.Url);
        await using var b = await AgentTestHost.StartAsync("host-b", api.Url);
        var guest = PageCounter("tokenless", 64);
        await a.Client.LaunchGuestAsync(new LaunchGuestRequest { Guest = guest }, Call());
        await QemuHost.WaitUntilCountingAsync(a.Qemu("tokenless"));
        var id = Guid.NewGuid().ToString();
        var policy = new MigrationPolicy { Transport = Transport.Native };
        var chosen = ByteString.CopyFrom(PageStreamCredentials.NewToken());
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await b.Client.PrepareIncomingAsync(
            new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy, PageStreamToken = ByteString.CopyFrom(1, 2, 3) }, Call()));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        var target = await b.Client.PrepareIncomingAsync(new PrepareIncomingRequest { MigrationId = id, Guest = guest, Policy = policy, PageStreamToken = chosen }, Call());
        Assert.Equal(chosen, target.PageStreamToken);

        // What an API that forwards only address and port sends.
        var messages = await MigrateToEndAsync(a.Client, Migrate(id, "tokenless", target, b, policy));
        var end = messages[^1];

        Assert.Equal(MigrationPhase.Failed, end.Phase);
        Assert.Contains("page_stream_token", end.FailureReason, StringComparison.Ordinal);
        Assert.DoesNotContain(messages, m => m.Phase == MigrationPhase.SwitchingOver);
        Assert.Equal("running", (await a.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "tokenless" }, Call())).RunState);
        Assert.False((await b.Client.GetGuestStatusAsync(new GuestStatusRequest { Name = "tokenless" }, Call())).Exists);
    }

    /// <summary>The counter byte of the first counted page changes only while the guest runs.</summary>
    private static async Task WaitUntilCounterMovesAsync(QemuProcess qemu)
    {
        var range = PageCounterRange.ForGuest(qemu.Spec.MemoryMiB);
        var first = await ReadCounterAsync(qemu, range.Start);
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (await ReadCounterAsync(qemu, range.Start) != first)
            {
                return;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"the counter at 0x{range.Start:x} stayed {first}: the guest does not run at the target"));
    }

    private static async Task<byte> ReadCounterAsync(QemuProcess qemu, long offset)
    {
        var buffer = new byte[1];
        using var handle = File.OpenHandle(qemu.Layout.RamFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        await RandomAccess.ReadAsync(handle, buffer, offset, TestContext.Current.CancellationToken);
        return buffer[0];
    }
}
