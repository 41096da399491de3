using System.Net;
using System.Net.Sockets;
using Ferry.Agent.Migration;
using Ferry.Agent.Migration.Transports.Qemu;
using Ferry.Agent.Qemu;
using Ferry.Agent.Qmp;
using Ferry.Agent.Tests.Support;
using Ferry.ServiceDefaults.Trust;
using Ferry.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ferry.Agent.Tests.Migration.Transports.Qemu;

/// <summary>
/// QEMU's own TLS migration between two "hosts" (two launchers, each with its own run directory and
/// certificate from one test CA), real QEMU and real TLS: it completes with the memory invariant
/// intact, over one channel and over multifd, and the target's port takes a stream from nobody but the
/// source host's certificate (not another host's of the same CA), without a stranger failing the
/// migration that follows.
/// </summary>
public sealed class QemuMigrationTlsTests : IDisposable
{
    private readonly TestPki _pki = new();
    private readonly TestPki _stranger = new("Someone else's CA");

    private static QemuMigration NewMigration() => TestMigrations.Create();

    private static MigrationUri FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return MigrationUri.Tcp(IPAddress.Loopback, ((IPEndPoint)probe.LocalEndpoint).Port);
    }

    /// <summary>QEMU's credentials for <paramref name="host"/>, written where that host's QEMUs read them.</summary>
    private static QemuTlsCredentials Credentials(TestPki pki, string host, QemuHost qemu)
    {
        var (certificate, key) = pki.Host(host);
        return new QemuTlsCredentials(
            new ClusterTlsOptions { CaFile = pki.CaFile, CertificateFile = certificate, KeyFile = key },
            qemu.Options,
            trust: null,
            NullLogger<QemuTlsCredentials>.Instance);
    }

    private static async Task<(QemuProcess Target, MigrationUri Uri)> PrepareTargetAsync(QemuHost host, QemuProcess source, MigrationSettings settings, QemuMigrationTls? tls)
    {
        var target = await host.LaunchPageCounterAsync(source.Spec.Guest, source.Spec.Instance + "-in", source.Spec.MemoryMiB, incoming: true);
        var uri = FreeLoopbackPort();
        await NewMigration().PrepareIncomingAsync(target.Qmp, uri, settings, tls, TestContext.Current.CancellationToken);
        return (target, uri);
    }

    private static void Report(string what, QemuMigrationResult result) =>
        TestContext.Current.SendDiagnosticMessage($"{what}: {result.Outcome} {result.Reason} {result.Stats}");

    [Fact]
    public async Task A_page_counter_guest_migrates_over_tls_with_its_memory_intact_and_both_ends_hold_the_credentials()
    {
        await using var hostA = QemuHost.Create();
        await using var hostB = QemuHost.Create();
        var sourceTls = Credentials(_pki, "host-a", hostA).ForSource("host-b")!;
        var targetTls = Credentials(_pki, "host-b", hostB).ForTarget("host-a")!;
        await using var source = await hostA.LaunchPageCounterAsync("counter", "tls-a", 128);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { DowntimeLimit = TimeSpan.FromMilliseconds(500) };
        var (target, uri) = await PrepareTargetAsync(hostB, source, settings, targetTls);
        await using var _ = target;
        var waiting = await target.Qmp.QueryMigrationParametersAsync(TestContext.Current.CancellationToken);
        MigrationParameters? atSource = null;

        var result = await NewMigration().MigrateAsync(
            new QemuMigrationRequest(source.Qmp, uri, new LocalQemuTarget(target), settings, DeferredSourceCleanup: async ct =>
            {
                // What the source migrated with, asked before it quits.
                atSource = await source.Qmp.QueryMigrationParametersAsync(ct);
                await source.Qmp.QuitAsync(ct);
            }, Tls: sourceTls),
            TestContext.Current.CancellationToken);
        Report("128 MiB page counter over TLS", result);

        Assert.True(result.Outcome == MigrationOutcome.Completed, $"{result.Outcome}: {result.Reason}");
        Assert.Equal(QemuMigrationTls.ObjectId, waiting.TlsCreds);
        Assert.Equal(QemuMigrationTls.AuthorizationObjectId, waiting.TlsAuthz);
        Assert.Equal(["O=Ferry,CN=host-a"], targetTls.AcceptedSubjects);
        Assert.Equal(QemuMigrationTls.ObjectId, atSource?.TlsCreds);
        Assert.Equal("host-b", atSource?.TlsHostname);
        var stats = Assert.IsType<QemuMigrationStats>(result.Stats);
        Assert.True(stats.TransferredBytes > 120L * 1024 * 1024, $"only {stats.TransferredBytes} bytes sent");
        Assert.True((await target.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(target);
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);

        // QEMU's copies of the host's key are private to QEMU's user.
        Assert.EndsWith(" 700", FileModes.OwnerAndMode(targetTls.CredentialsDirectory), StringComparison.Ordinal);
        Assert.All(Directory.GetFiles(targetTls.CredentialsDirectory), f => Assert.EndsWith(" 600", FileModes.OwnerAndMode(f), StringComparison.Ordinal));
        Assert.Equal(
            ["ca-cert.pem", "client-cert.pem", "client-key.pem", "server-cert.pem", "server-key.pem"],
            Directory.GetFiles(targetTls.CredentialsDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_page_counter_guest_migrates_over_tls_on_two_multifd_channels_with_its_memory_intact()
    {
        await using var hostA = QemuHost.Create();
        await using var hostB = QemuHost.Create();
        await using var source = await hostA.LaunchPageCounterAsync("counter", "tls-m", 128);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { ParallelStreams = 2, DowntimeLimit = TimeSpan.FromMilliseconds(500) };
        var (target, uri) = await PrepareTargetAsync(hostB, source, settings, Credentials(_pki, "host-b", hostB).ForTarget("host-a"));
        await using var _ = target;

        var result = await NewMigration().MigrateAsync(
            new QemuMigrationRequest(source.Qmp, uri, new LocalQemuTarget(target), settings, Tls: Credentials(_pki, "host-a", hostA).ForSource("host-b")),
            TestContext.Current.CancellationToken);
        Report("128 MiB page counter over TLS, multifd x2", result);

        Assert.True(result.Outcome == MigrationOutcome.Completed, $"{result.Outcome}: {result.Reason}");
        Assert.True((await target.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(target);
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);
    }

    [Fact]
    public async Task Strangers_get_no_stream_into_a_tls_target_and_the_real_source_then_migrates_with_memory_intact()
    {
        await using var hostA = QemuHost.Create();
        await using var hostB = QemuHost.Create();
        await using var hostC = QemuHost.Create();
        await using var source = await hostA.LaunchPageCounterAsync("counter", "tls-s", 64);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { DowntimeLimit = TimeSpan.FromMilliseconds(500) };
        var (target, uri) = await PrepareTargetAsync(hostB, source, settings, Credentials(_pki, "host-b", hostB).ForTarget("host-a"));
        await using var _ = target;

        // A raw connection sending what a plain QEMU stream starts with (magic "QEVM", version 3), then garbage.
        using (var raw = new TcpClient())
        {
            await raw.ConnectAsync(uri.Endpoint, TestContext.Current.CancellationToken);
            await raw.GetStream().WriteAsync("QEVM\0\0\0\u0003garbage"u8.ToArray(), TestContext.Current.CancellationToken);
        }

        await AssertStillWaitingAsync(target, "a raw plain-TCP stream");

        // A QEMU migrating in plain TCP, one whose certificate comes from another CA, and one with the cluster
        // certificate of a host that is not this migration's source. Each writes its credentials where host-c's
        // QEMUs read them when its turn comes.
        var strangers = new (string What, Func<QemuMigrationTls?> Tls)[]
        {
            ("a plain QEMU stream", () => null),
            ("a QEMU with another CA's certificate", () => Credentials(_stranger, "host-a", hostC).ForSource("host-b")),
            ("a QEMU with another host's cluster certificate", () => Credentials(_pki, "host-c", hostC).ForSource("host-b")),
        };
        var index = 0;
        foreach (var (what, credentials) in strangers)
        {
            var tls = credentials();
            await using var stranger = await hostC.LaunchIdleAsync("stranger", $"stranger-{index++}", 64);
            var refused = await NewMigration().MigrateAsync(
                new QemuMigrationRequest(stranger.Qmp, uri, new RecordingTarget(), settings, Tls: tls), TestContext.Current.CancellationToken);
            Report(what, refused);

            Assert.Equal(MigrationOutcome.Failed, refused.Outcome);
            Assert.True(refused.SourceRunning, $"{what}: the stranger's own guest should run on");
            await AssertStillWaitingAsync(target, what);
        }

        var result = await NewMigration().MigrateAsync(
            new QemuMigrationRequest(source.Qmp, uri, new LocalQemuTarget(target), settings, Tls: Credentials(_pki, "host-a", hostA).ForSource("host-b")),
            TestContext.Current.CancellationToken);
        Report("the real source after the strangers", result);

        Assert.True(result.Outcome == MigrationOutcome.Completed, $"{result.Outcome}: {result.Reason}");
        var invariant = await QemuHost.StopAndCheckInvariantAsync(target);
        Assert.True(invariant.Holds, invariant.ToString());
        Assert.True(invariant.GuestHasRun);
    }

    [Fact]
    public async Task A_source_without_a_cluster_certificate_is_refused_by_the_target_and_keeps_its_guest_intact()
    {
        await using var hostA = QemuHost.Create();
        await using var hostB = QemuHost.Create();
        await using var source = await hostA.LaunchPageCounterAsync("counter", "tls-n", 64);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { DowntimeLimit = TimeSpan.FromMilliseconds(500) };
        var (target, uri) = await PrepareTargetAsync(hostB, source, settings, Credentials(_pki, "host-b", hostB).ForTarget("host-a"));
        await using var _ = target;

        // TLS that trusts the cluster CA but has no certificate of its own to present.
        using var anonymous = new TestDirectory();
        File.Copy(_pki.CaFile, anonymous.File("ca-cert.pem"));
        var tracked = new RecordingTarget();
        var result = await NewMigration().MigrateAsync(
            new QemuMigrationRequest(source.Qmp, uri, tracked, settings, Tls: new QemuMigrationTls(anonymous.Path, "host-b")), TestContext.Current.CancellationToken);
        Report("a source without a certificate", result);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.True(result.SourceRunning);
        Assert.Equal(1, tracked.TearDowns);
        await AssertStillWaitingAsync(target, "a source without a certificate");
        Assert.True((await source.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);

        // The failed source keeps no credentials.
        Assert.Equal(string.Empty, (await source.Qmp.QueryMigrationParametersAsync(TestContext.Current.CancellationToken)).TlsCreds);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(source);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task A_source_checks_the_target_host_name_in_its_certificate()
    {
        await using var hostA = QemuHost.Create();
        await using var hostB = QemuHost.Create();
        await using var source = await hostA.LaunchPageCounterAsync("counter", "tls-h", 64);
        await QemuHost.WaitUntilCountingAsync(source);
        var settings = new MigrationSettings { DowntimeLimit = TimeSpan.FromMilliseconds(500) };
        var (target, uri) = await PrepareTargetAsync(hostB, source, settings, Credentials(_pki, "host-b", hostB).ForTarget("host-a"));
        await using var _ = target;

        // The API named host-c as the target, but host-b's QEMU answers at the address.
        var result = await NewMigration().MigrateAsync(
            new QemuMigrationRequest(source.Qmp, uri, new RecordingTarget(), settings, Tls: Credentials(_pki, "host-a", hostA).ForSource("host-c")),
            TestContext.Current.CancellationToken);
        Report("a target certificate naming another host", result);

        Assert.Equal(MigrationOutcome.Failed, result.Outcome);
        Assert.Contains("host-c", result.Reason, StringComparison.Ordinal);
        Assert.True(result.SourceRunning);
        var invariant = await QemuHost.StopAndCheckInvariantAsync(source);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    [Fact]
    public async Task As_the_run_as_user_and_in_the_sandbox_qemu_reads_its_credentials_and_migrates_a_disk_guest_over_tls()
    {
        var user = QemuUsers.Default();

        // Page-counter guests: their boot disk is reopened by path at the switch-over, as the dropped user.
        await using var hostA = QemuHost.Create();
        await using var hostB = QemuHost.Create();
        await using var source = await hostA.LaunchPageCounterAsync("counter", "tls-r", 64);
        await QemuHost.WaitUntilCountingAsync(source);
        await using var target = await hostB.LaunchPageCounterAsync("counter", "tls-r-in", 64, incoming: true);
        var settings = new MigrationSettings { DowntimeLimit = TimeSpan.FromMilliseconds(500) };
        var targetTls = Credentials(_pki, "host-b", hostB).ForTarget("host-a")!;
        var uri = FreeLoopbackPort();
        await NewMigration().PrepareIncomingAsync(target.Qmp, uri, settings, targetTls, TestContext.Current.CancellationToken);

        var result = await NewMigration().MigrateAsync(
            new QemuMigrationRequest(source.Qmp, uri, new LocalQemuTarget(target), settings, Tls: Credentials(_pki, "host-a", hostA).ForSource("host-b")),
            TestContext.Current.CancellationToken);
        Report($"64 MiB page counter over TLS, QEMU as {user.Name}", result);

        Assert.True(result.Outcome == MigrationOutcome.Completed, $"{result.Outcome}: {result.Reason}");
        Assert.True((await target.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken)).Running);
        Assert.Contains("-sandbox", File.ReadAllLines(target.Layout.ArgumentsFile));
        QemuUsers.AssertRunsAs(target.Pid, user);
        Assert.Equal($"{user.Uid} 700", FileModes.OwnerAndMode(targetTls.CredentialsDirectory));
        Assert.All(Directory.GetFiles(targetTls.CredentialsDirectory), f => Assert.Equal($"{user.Uid} 600", FileModes.OwnerAndMode(f)));
        var invariant = await QemuHost.StopAndCheckInvariantAsync(target);
        Assert.True(invariant.Holds, invariant.ToString());
    }

    /// <summary>The target QEMU still runs and still waits for its migration: the stranger took nothing from it.</summary>
    private static async Task AssertStillWaitingAsync(QemuProcess target, string after)
    {
        // QEMU handles the refused handshake in its main loop; a status answer comes after it.
        var status = await target.Qmp.QueryStatusAsync(TestContext.Current.CancellationToken);
        Assert.False(target.HasExited, $"the target QEMU exited after {after}: {await target.ReadProcessLogAsync()}");
        Assert.Equal("inmigrate", status.Status);
        Assert.NotEqual(QmpMigrationStatus.Failed, (await target.Qmp.QueryMigrateAsync(TestContext.Current.CancellationToken)).State);
    }

    public void Dispose()
    {
        _pki.Dispose();
        _stranger.Dispose();
    }
}
