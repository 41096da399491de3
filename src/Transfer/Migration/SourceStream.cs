using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ferry.Transfer.Memory;
using Ferry.Transfer.Protocol;
using Ferry.Transfer.Zero;

namespace Ferry.Transfer.Migration;

/// <summary>
/// One source-side connection: sends the pieces of a pass that its partition owns, then waits
/// for the destination to acknowledge them. Pages are read with pread into a pinned window
/// (no page faults in the engine), scanned for zero there, and sent from it without another copy.
/// Window and range buffers are allocated once.
/// </summary>
[SkipLocalsInit]
internal sealed unsafe class SourceStream : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _network;
    private readonly BufferedStream _buffered;
    private readonly FrameWriter _writer;
    private readonly FrameReader _reader;
    private readonly GuestMemory _memory;
    private readonly BandwidthLimiter _limiter;
    private readonly byte[] _window;
    private readonly byte* _windowPointer;
    private readonly int _windowPages;
    private readonly PageRange[] _zeros = new PageRange[WireFormat.MaxZeroRangesPerFrame];
    private readonly BlockingCollection<(Action<SourceStream> Work, TaskCompletionSource Done)> _work = [];
    private readonly Thread _worker;
    private int _zeroCount;

    private readonly SentPageHashes? _sent;
    private readonly bool _skipUnchanged;
    private readonly bool[] _changed;

    public SourceStream(TcpClient client, GuestMemory memory, BandwidthLimiter limiter, int index, int count, SentPageHashes? sent = null, bool skipUnchanged = false)
    {
        _sent = sent;
        _skipUnchanged = skipUnchanged && sent is not null;
        _client = client;
        _network = client.GetStream();
        _buffered = new BufferedStream(_network, 256 * 1024);
        _memory = memory;
        _limiter = limiter;
        _writer = new FrameWriter(_buffered, memory.PageSize);
        _reader = new FrameReader(_network, memory.PageSize);
        _windowPages = _writer.MaxPagesPerBatch;
        _changed = new bool[_windowPages];
        _window = GC.AllocateArray<byte>(_windowPages * memory.PageSize, pinned: true);
        _windowPointer = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_window));
        Index = index;
        Count = count;
        // One thread per stream for the whole migration: starting threads per pass costs milliseconds
        // where page faults are expensive, and blocking socket calls must not starve the thread pool.
        _worker = new Thread(Work) { IsBackground = true, Name = $"ferry-source-stream-{index}" };
        _worker.Start();
    }

    public int Index { get; }

    /// <summary>Runs <paramref name="work"/> on this stream's own thread.</summary>
    public Task RunAsync(Action<SourceStream> work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _work.Add((work, done));
        }
        catch (InvalidOperationException)
        {
            done.SetException(new ObjectDisposedException(nameof(SourceStream)));
        }

        return done.Task;
    }

    public int Count { get; }

    public long BytesWritten => _writer.BytesWritten;

    public long PagesSent { get; private set; }

    public long ZeroPages { get; private set; }

    public long SkippedPages { get; private set; }

    /// <summary>Pages a dirty pass left out because their content was what was last sent of them.</summary>
    public long UnchangedPages { get; private set; }

    public void Handshake(MigrationCredentials credentials)
    {
        if (PageStreamHandshake.Offer(_writer, _reader, credentials, _memory.PageSize, _memory.PageCount, Index, Count) is { } failure)
        {
            throw new MigrationFailedException($"stream {Index}: {failure}");
        }
    }

    /// <summary>Sends this stream's share of a pass and waits for its acknowledgement.</summary>
    public void SendPass(int pass, List<PassPiece> pieces, bool final, ReadOnlyMemory<byte> deviceState)
    {
        WritePass(pass, pieces, final, deviceState);
        ExpectAck(final ? FrameType.Final : FrameType.EndOfPass, pass);
    }

    /// <summary>Waits for the acknowledgement of a final pass written with <see cref="WritePass"/>.</summary>
    public void ExpectFinalAck(int pass)
    {
        WatchUntilReadable();
        ExpectAck(FrameType.Final, pass);
    }

    /// <summary>Sends this stream's share of a pass and its end marker, without waiting for the acknowledgement.</summary>
    public void WritePass(int pass, List<PassPiece> pieces, bool final, ReadOnlyMemory<byte> deviceState)
    {
        foreach (var piece in pieces)
        {
            if (StreamPartition.StreamOf(piece.Range.First, Count) != Index)
            {
                continue;
            }

            if (piece.Hole)
            {
                _sent?.SentZero(piece.Range);
                AddZeroRange(piece.Range);
                SkippedPages += piece.Range.Count;
                continue;
            }

            SendPages(piece.Range, sparse: pass > 0);
        }

        _writer.FlushSparsePages();
        FlushZeros();
        if (final)
        {
            if (!deviceState.IsEmpty)
            {
                _writer.WriteDeviceState(deviceState.Span);
            }

            _writer.WriteFinal(pass);
        }
        else
        {
            _writer.WriteEndOfPass(pass);
        }

        _buffered.Flush();
    }

    /// <summary>Tells the destination the guest is being paused for the switch-over; sent before the pause, from the caller's thread.</summary>
    public void AnnounceSwitchover()
    {
        _writer.WriteSwitchoverSoon();
        _buffered.Flush();
    }

    /// <summary>Waits for the destination's confirmation that the guest runs there.</summary>
    public void ExpectRunning()
    {
        WatchUntilReadable();
        var error = _reader.Read();
        if (error != ReceiveError.None || _reader.Type != FrameType.Running)
        {
            throw new MigrationFailedException($"stream {Index}: no running confirmation from the destination ({(error != ReceiveError.None ? error : _reader.Type)})");
        }
    }

    /// <summary>Tells the destination to give up; best effort.</summary>
    public void TryAbort()
    {
        try
        {
            _writer.WriteAbort(ReceiveError.PeerAborted);
            _buffered.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is what failed; nothing more to say on it.
        }
    }

    public void Dispose()
    {
        // Closing the socket first unblocks the worker if it waits on the peer.
        _client.Dispose();
        _work.CompleteAdding();
        if (Thread.CurrentThread != _worker)
        {
            _worker.Join();
        }

        _writer.Dispose();
        _reader.Dispose();
    }

    private void Work()
    {
        foreach (var (work, done) in _work.GetConsumingEnumerable())
        {
            try
            {
                work(this);
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }
    }

    /// <summary>
    /// Inside the downtime the answer is due within milliseconds: watch the socket (yielding the
    /// CPU between looks) rather than sleep in a read, so the answer does not also wait for this
    /// thread's vCPU to be woken. Bounded; the blocking read with its timeout follows either way.
    /// </summary>
    private void WatchUntilReadable()
    {
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 50; // 20 ms
        while (_client.Client.Available == 0 && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
        {
            Thread.Yield();
        }
    }

    private void ExpectAck(FrameType acknowledged, int pass)
    {
        var error = _reader.Read();
        if (error != ReceiveError.None)
        {
            throw new MigrationFailedException($"stream {Index}: waiting for the {acknowledged} ack of pass {pass}: {error}");
        }

        var payload = _reader.Payload;
        if (_reader.Type == FrameType.Abort)
        {
            throw new MigrationFailedException($"stream {Index}: destination aborted: {(ReceiveError)BinaryPrimitives.ReadUInt16BigEndian(payload)}");
        }

        if (_reader.Type != FrameType.Ack || payload[0] != (byte)acknowledged || BinaryPrimitives.ReadInt32BigEndian(payload[1..]) != pass)
        {
            throw new MigrationFailedException($"stream {Index}: expected the {acknowledged} ack of pass {pass}, got {_reader.Type}");
        }
    }

    private void AddZeroRange(PageRange range)
    {
        // With one stream consecutive pieces touch, so a hole-only 8 GiB RAM becomes one range.
        if (_zeroCount > 0 && _zeros[_zeroCount - 1].End == range.First && (Count == 1 || StreamPartition.ChunkEnd(range.First) == StreamPartition.ChunkEnd(_zeros[_zeroCount - 1].First)))
        {
            _zeros[_zeroCount - 1] = _zeros[_zeroCount - 1] with { Count = _zeros[_zeroCount - 1].Count + range.Count };
            return;
        }

        if (_zeroCount == _zeros.Length)
        {
            FlushZeros();
        }

        _zeros[_zeroCount++] = range;
    }

    private void FlushZeros()
    {
        if (_zeroCount > 0)
        {
            _writer.WriteZeroRanges(_zeros.AsSpan(0, _zeroCount));
            _zeroCount = 0;
        }
    }

    /// <summary>
    /// Sends the pages of a range: zero runs as ranges, the rest as page runs. In dirty passes
    /// (<paramref name="sparse"/>) a page that is mostly zero goes as its non-zero chunks: those
    /// passes carry the guest's hot set, where that is common (packet buffers, rings), and the
    /// final one of them is inside the downtime.
    /// </summary>
    private void SendPages(PageRange range, bool sparse)
    {
        int pageSize = _memory.PageSize;
        for (long first = range.First; first < range.End; first += _windowPages)
        {
            int pages = (int)Math.Min(_windowPages, range.End - first);
            var window = _window.AsSpan(0, pages * pageSize);
            _memory.ReadPages(first, window);
            if (_skipUnchanged && sparse)
            {
                // A dirty pass: only the pages whose content changed since they were last sent go out.
                _sent!.Compare(first, window, _changed.AsSpan(0, pages));
                for (int start = 0; start < pages;)
                {
                    int end = start;
                    bool changed = _changed[start];
                    while (end < pages && _changed[end] == changed)
                    {
                        end++;
                    }

                    if (changed)
                    {
                        SendWindowPages(first, new PageRange(start, end - start), sparse);
                    }
                    else
                    {
                        UnchangedPages += end - start;
                    }

                    start = end;
                }

                continue;
            }

            _sent?.Sent(first, window);
            SendWindowPages(first, new PageRange(0, pages), sparse);
        }
    }

    /// <summary>Sends pages of the window read at <paramref name="first"/>: zero runs as ranges, the rest as page runs (sparse ones in dirty passes).</summary>
    private void SendWindowPages(long first, PageRange inWindow, bool sparse)
    {
        foreach (var run in ZeroPageDetector.Runs(_windowPointer, _memory.PageSize, inWindow, ZeroPageDetector.Width))
        {
            var pagesOfRun = new PageRange(first + run.Range.First, run.Range.Count);
            if (run.IsZero)
            {
                AddZeroRange(pagesOfRun);
                ZeroPages += run.Range.Count;
                continue;
            }

            if (sparse)
            {
                SendSparseOrDense(pagesOfRun, (int)run.Range.First);
            }
            else
            {
                SendDense(pagesOfRun.First, (int)run.Range.First, (int)run.Range.Count);
            }

            PagesSent += run.Range.Count;
        }
    }

    /// <summary>Pages of a non-zero run, each sparse when it is mostly zero; consecutive dense ones still go as one run.</summary>
    private void SendSparseOrDense(PageRange pages, int windowIndex)
    {
        int pageSize = _memory.PageSize;
        int denseStart = -1;
        for (int i = 0; i < pages.Count; i++)
        {
            byte* page = _windowPointer + (long)(windowIndex + i) * pageSize;
            if (!SparsePage.TryGetMask(page, pageSize, out ulong mask))
            {
                denseStart = denseStart < 0 ? i : denseStart;
                continue;
            }

            if (denseStart >= 0)
            {
                SendDense(pages.First + denseStart, windowIndex + denseStart, i - denseStart);
                denseStart = -1;
            }

            _limiter.Acquire(WireFormat.SparseEntryHeaderSize + SparsePage.DataBytes(mask, pageSize));
            _writer.AddSparsePage(pages.First + i, new ReadOnlySpan<byte>(page, pageSize), mask);
        }

        if (denseStart >= 0)
        {
            SendDense(pages.First + denseStart, windowIndex + denseStart, (int)pages.Count - denseStart);
        }
    }

    private void SendDense(long firstPage, int windowIndex, int count)
    {
        int pageSize = _memory.PageSize;
        var data = _window.AsSpan(windowIndex * pageSize, count * pageSize);
        _limiter.Acquire(data.Length);
        _writer.WritePageRun(firstPage, data);
    }
}
