using System.IO.Pipes;
using System.Net;
using System.Net.Sockets;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Migration;
using Ferry.Transfer.Protocol;
using Ferry.Transfer.Tests.Dirty;
using Ferry.Transfer.Tests.Support;

namespace Ferry.Transfer.Tests.Protocol;

/// <summary>The page stream's handshake (protocol version 3) and the destination's door: what a stranger can and cannot do.</summary>
public sealed class PageStreamTrustTests
{
    private static readonly Task Started = Task.CompletedTask;

    /// <summary>A connected pair of streams that record what crosses them (anonymous pipes, one per direction).</summary>
    private sealed class RecordedLink : IDisposable
    {
        private readonly AnonymousPipeServerStream _toDestination = new(PipeDirection.Out);
        private readonly AnonymousPipeServerStream _toSource = new(PipeDirection.Out);
        private readonly AnonymousPipeClientStream _fromSource;
        private readonly AnonymousPipeClientStream _fromDestination;

        public RecordedLink()
        {
            _fromSource = new AnonymousPipeClientStream(PipeDirection.In, _toDestination.ClientSafePipeHandle);
            _fromDestination = new AnonymousPipeClientStream(PipeDirection.In, _toSource.ClientSafePipeHandle);
            Source = new DuplexStream(_fromDestination, new Recorder(_toDestination, SentBySource));
            Destination = new DuplexStream(_fromSource, new Recorder(_toSource, SentByDestination));
        }

        public Stream Source { get; }

        public Stream Destination { get; }

        public MemoryStream SentBySource { get; } = new();

        public MemoryStream SentByDestination { get; } = new();

        public void Dispose()
        {
            _toDestination.Dispose();
            _toSource.Dispose();
            _fromSource.Dispose();
            _fromDestination.Dispose();
        }

        private sealed class Recorder(Stream inner, MemoryStream copy) : Stream
        {
            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() => inner.Flush();
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

            public override void Write(ReadOnlySpan<byte> buffer)
            {
                copy.Write(buffer);
                inner.Write(buffer);
            }
        }
    }

    private static bool Contains(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    [Trait("Tier", "fast")]
    [Fact]
    public async Task Both_sides_prove_the_token_and_it_never_crosses_the_wire()
    {
        using var harness = new ProtocolHarness();
        using var link = new RecordedLink();
        using var writer = new FrameWriter(link.Source, ProtocolHarness.PageSize);
        using var reader = new FrameReader(link.Source, ProtocolHarness.PageSize);
        int claimed = -1;
        using var receiver = new PageStreamReceiver(harness.Memory, harness.Credentials, link.Destination, claimStream: i => (claimed = i) == 0);

        var destination = Task.Run(receiver.Handshake, TestContext.Current.CancellationToken);
        var failure = PageStreamHandshake.Offer(writer, reader, harness.Credentials, ProtocolHarness.PageSize, ProtocolHarness.Pages, 0, 1);

        Assert.Null(failure);
        Assert.Equal(ReceiveError.None, await destination.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.True(receiver.Authenticated);
        Assert.Equal(0, claimed);
        Assert.False(Contains(link.SentBySource.ToArray(), harness.Credentials.Token));
        Assert.False(Contains(link.SentByDestination.ToArray(), harness.Credentials.Token));
    }

    [Trait("Tier", "fast")]
    [Fact]
    public async Task A_destination_without_the_token_gets_nothing_after_the_hello()
    {
        using var harness = new ProtocolHarness();
        using var link = new RecordedLink();
        using var writer = new FrameWriter(link.Source, ProtocolHarness.PageSize);
        using var reader = new FrameReader(link.Source, ProtocolHarness.PageSize);
        var impostor = new MigrationCredentials(harness.Credentials.MigrationId, new byte[WireFormat.TokenSize]);
        using var fake = new PageStreamReceiver(harness.Memory, impostor, link.Destination);

        var destination = Task.Run(fake.Handshake, TestContext.Current.CancellationToken);
        var failure = PageStreamHandshake.Offer(writer, reader, harness.Credentials, ProtocolHarness.PageSize, ProtocolHarness.Pages, 0, 1);
        var sent = link.SentBySource.Length;
        link.Dispose(); // the source hangs up: the fake destination, waiting for a proof, reads the end of the stream

        Assert.Contains("could not prove it holds the migration's token", failure, StringComparison.Ordinal);
        Assert.Equal(WireFormat.HeaderSize + WireFormat.HelloSize, sent);
        // The fake sees the end of the stream, or a closed pipe under its last flush: either way no proof came.
        var ended = await Record.ExceptionAsync(() => destination.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.True(ended is ObjectDisposedException or IOException || (ended is null && await destination != ReceiveError.None), ended?.ToString());
        Assert.False(fake.Authenticated);
    }

    [Trait("Tier", "fast")]
    [Fact]
    public void A_proof_recorded_from_another_handshake_is_refused_and_takes_no_slot()
    {
        using var harness = new ProtocolHarness();
        var recorded = harness.Hello(); // a source's hello and proof for the harness's nonce
        var claimed = false;
        using var receiver = new PageStreamReceiver(harness.Memory, harness.Credentials,
            new DuplexStream(new MemoryStream(recorded), new MemoryStream()), claimStream: _ => claimed = true);

        // A real receiver draws a fresh nonce: the replayed proof answers another challenge.
        Assert.Equal(ReceiveError.WrongToken, receiver.Handshake());
        Assert.False(claimed);
        Assert.False(receiver.Authenticated);
        Assert.True(harness.Unchanged);
    }

    [Trait("Tier", "fast")]
    [Fact]
    public void A_peer_of_another_version_is_refused_and_the_error_names_both_versions()
    {
        using var harness = new ProtocolHarness();
        var hello = harness.Hello();
        hello[2] = 2;
        using var receiver = harness.Receiver(new DuplexStream(new MemoryStream(hello), harness.Replies));

        Assert.Equal(ReceiveError.UnsupportedVersion, receiver.Handshake());
        Assert.Equal(2, receiver.PeerVersion);
        Assert.Contains("version 2, this side version 3", PageStreamHandshake.Describe(ReceiveError.UnsupportedVersion, receiver.PeerVersion), StringComparison.Ordinal);
        var reply = new FrameReader(new MemoryStream(harness.Replies.ToArray()), ProtocolHarness.PageSize);
        Assert.Equal(ReceiveError.None, reply.Read());
        Assert.Equal(FrameType.Refused, reply.Type);
    }

    [Trait("Tier", "fast")]
    [Fact]
    public void Only_the_sources_address_may_connect()
    {
        var credentials = new MigrationCredentials(Guid.NewGuid(), new byte[WireFormat.TokenSize]) { Source = IPAddress.Parse("10.77.0.2") };

        Assert.True(credentials.AcceptsPeer(new IPEndPoint(IPAddress.Parse("10.77.0.2"), 40000)));
        Assert.True(credentials.AcceptsPeer(new IPEndPoint(IPAddress.Parse("::ffff:10.77.0.2"), 40000)));
        Assert.False(credentials.AcceptsPeer(new IPEndPoint(IPAddress.Parse("10.77.0.3"), 40000)));
        Assert.False(credentials.AcceptsPeer(null));
    }

    [Trait("Tier", "fast")]
    [Fact]
    public async Task A_connection_from_another_address_is_closed_before_it_is_read_and_takes_no_slot()
    {
        using var run = new LoopbackMigration(1L << 20);
        var onlyFrom = new MigrationCredentials(run.Credentials.MigrationId, run.Credentials.Token) { Source = IPAddress.Parse("127.0.0.2") };
        var destination = run.StartDestination(1, (_, _) => Started, onlyFrom, progressTimeout: TimeSpan.FromSeconds(2),
            cancellationToken: TestContext.Current.CancellationToken);
        using var stranger = new TcpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await stranger.ConnectAsync(run.EndPoint, TestContext.Current.CancellationToken);
        var stream = stranger.GetStream();
        using (var writer = new FrameWriter(stream, run.Destination.PageSize))
        using (var reader = new FrameReader(stream, run.Destination.PageSize))
        {
            // Closed unread: the stranger sees the end of the stream (or a reset), never a challenge.
            string? failure = null;
            var error = Record.Exception(() => failure = PageStreamHandshake.Offer(writer, reader, run.Credentials, run.Destination.PageSize, run.Destination.PageCount, 0, 1));
            Assert.True(error is IOException || failure?.Contains("EndOfStream", StringComparison.Ordinal) == true, $"{error} {failure}");
        }

        var received = await destination;
        Assert.False(received.Succeeded);
        Assert.Contains("not the migration's source", received.FailureReason, StringComparison.Ordinal);
        Assert.Equal(0, received.BytesReceived);
    }

    [Fact]
    public async Task A_strangers_connections_neither_fail_nor_delay_a_migration()
    {
        WrittenPageTrackerTests.SkipUnlessWriteProtectWorks();
        using var run = new LoopbackMigration(16L << 20);
        new Random(3).NextBytes(run.Source.GetPage(7));
        using var workload = WorkloadProcess.Start(run.Source.FilePath, "idle");
        var guest = new WorkloadGuestControl(workload);
        var sameBytes = false;
        var destination = run.StartDestination(2, (_, _) =>
        {
            sameBytes = LoopbackMigration.SameBytes(run.Destination, run.Source);
            return Started;
        }, cancellationToken: TestContext.Current.CancellationToken);

        // Before the source: one stranger who says nothing, one who guesses, one who speaks garbage.
        using var silent = new TcpClient();
        await silent.ConnectAsync(run.EndPoint, TestContext.Current.CancellationToken);
        using var guesser = new TcpClient();
        await guesser.ConnectAsync(run.EndPoint, TestContext.Current.CancellationToken);
        var guessed = new MigrationCredentials(run.Credentials.MigrationId, new byte[WireFormat.TokenSize]);
        using (var writer = new FrameWriter(guesser.GetStream(), run.Destination.PageSize))
        using (var reader = new FrameReader(guesser.GetStream(), run.Destination.PageSize))
        {
            Assert.NotNull(PageStreamHandshake.Offer(writer, reader, guessed, run.Destination.PageSize, run.Destination.PageCount, 0, 2));
        }

        using var garbage = new TcpClient();
        await garbage.ConnectAsync(run.EndPoint, TestContext.Current.CancellationToken);
        await garbage.GetStream().WriteAsync(new byte[64], TestContext.Current.CancellationToken);

        var migration = new SourceMigration(run.Source, DirtyTracking.OpenWrittenPageTracker(workload.Pid, run.Source), guest,
            run.Credentials, new MigrationOptions { Streams = 2, FreeSourceRam = false });
        var result = await migration.RunAsync(run.EndPoint, TestContext.Current.CancellationToken);
        var received = await destination;

        Assert.True(result.Succeeded, result.FailureReason);
        Assert.True(received.Succeeded, received.FailureReason);
        Assert.True(sameBytes, "destination RAM equals the paused source byte for byte");
    }
}
