using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Workload.Profiles;

/// <summary>
/// Modelled on DPDK's l2fwd between two ports on one lcore: an mbuf pool behind a FIFO ring,
/// a per-lcore LIFO mbuf cache (256, flushed at 1.5×), RX and TX descriptor rings of 1024,
/// bursts of 32. The "NIC" DMA-writes 64-byte frames into posted mbufs at the offered rate;
/// the forwarder rewrites the MAC addresses, posts the mbuf on the other port's TX ring and
/// frees it on completion. Like the real thing, it keeps re-dirtying a small hot set (rings,
/// cache, the recently used mbufs) at a very high write rate, which is what makes the final
/// dirty set small.
/// </summary>
internal sealed unsafe class L2ForwardProfile : IWorkloadProfile
{
    private const int Ports = 2;
    private const int RingSize = 1024;
    private const int Burst = IWorkloadProfile.MaxWritesPerStep;
    private const int CacheSize = 256;
    private const int FlushThreshold = CacheSize * 3 / 2;
    private const int MbufCount = 8191;
    private const int PoolSlots = 8192;
    private const int MbufBytes = 2304;     // 128 B rte_mbuf + 128 B headroom + 2048 B data
    private const int DataOffset = 256;
    private const int FrameBytes = 64;
    private const int WireBytesPerFrame = FrameBytes + 20; // preamble and inter-frame gap

    private readonly GuestMemory _memory;
    private readonly StateHeader* _header;
    private readonly Pacer _pacer;
    private readonly byte* _ports;    // per port: u32 rxNext, u32 txNext, u64 rxPackets, u64 txPackets
    private readonly uint* _cache;    // u32 length, then objects
    private readonly uint* _pool;     // u32 head, u32 tail, then PoolSlots entries
    private readonly byte* _rxRings;  // Ports × RingSize × 16-byte descriptors
    private readonly byte* _txRings;
    private readonly byte* _mbufs;

    public L2ForwardProfile(GuestMemory memory, StateHeader* header, double rateMbit)
    {
        _memory = memory;
        _header = header;
        _pacer = new Pacer(rateMbit * 1e6 / (WireBytesPerFrame * 8));
        long offset = memory.PageSize;
        byte* Take(long bytes)
        {
            byte* at = memory.Pointer + offset;
            offset = (offset + bytes + memory.PageSize - 1) / memory.PageSize * memory.PageSize;
            return at;
        }

        _ports = Take(Ports * 64);
        _cache = (uint*)Take(4 + FlushThreshold * 4 + 64);
        _pool = (uint*)Take(8 + PoolSlots * 4);
        _rxRings = Take(Ports * RingSize * 16);
        _txRings = Take(Ports * RingSize * 16);
        _mbufs = Take((long)MbufCount * MbufBytes);
        if (offset > memory.Size)
        {
            throw new ArgumentException($"l2fwd needs at least {offset >> 20} MiB of RAM.");
        }
    }

    public void Initialise()
    {
        _header->L2Offset = _memory.PageSize;
        for (uint m = 0; m < MbufCount; m++)
        {
            byte* mbuf = _mbufs + (long)m * MbufBytes;
            *(uint*)mbuf = m;                 // index, as the buffer's identity
            *(ushort*)(mbuf + 16) = 2048;     // buf_len
            _pool[2 + m] = m;
        }

        _pool[0] = 0;
        _pool[1] = MbufCount;
        for (int port = 0; port < Ports; port++)
        {
            for (int d = 0; d < RingSize; d++)
            {
                *(uint*)RxDescriptor(port, d) = Allocate();
            }
        }
    }

    public bool Step()
    {
        // One burst per step, as l2fwd's loop takes one rx_burst at a time (see MaxWritesPerStep).
        long frames = _pacer.Allowance(Burst);
        if (frames == 0)
        {
            return false;
        }

        int port = (int)(_header->Steps & 1);
        Forward(port, (int)frames);
        _header->Steps++;
        return true;
    }

    private void Forward(int port, int burst)
    {
        int outPort = port ^ 1;
        uint* pkts = stackalloc uint[Burst];
        uint* rxNext = (uint*)(_ports + port * 64);
        uint* txNext = (uint*)(_ports + outPort * 64 + 4);
        ulong* rxCount = (ulong*)(_ports + port * 64 + 8);
        ulong* txCount = (ulong*)(_ports + outPort * 64 + 16);

        // The NIC writes frames into the mbufs posted on the RX ring (pktgen's 64-byte frames).
        for (int i = 0; i < burst; i++)
        {
            byte* desc = RxDescriptor(port, (int)((*rxNext + i) % RingSize));
            ulong* frame = (ulong*)(Mbuf(*(uint*)desc) + DataOffset);
            ulong sequence = *rxCount + (ulong)i;
            frame[0] = 0x0000_0000_0000_FFFF; // broadcast-ish dst, as pktgen's default
            frame[1] = 0x0008_0000_0000_0000 | (ulong)port << 8;
            for (int w = 2; w < FrameBytes / 8; w++)
            {
                frame[w] = sequence * 0x9E37_79B9_7F4A_7C15 + (ulong)w;
            }

            *(ushort*)(desc + 8) = FrameBytes;
            *(ushort*)(desc + 10) = 1; // DD: descriptor done
        }

        // rx_burst: take the filled mbufs and post fresh ones from the LIFO cache in their place.
        for (int i = 0; i < burst; i++)
        {
            byte* desc = RxDescriptor(port, (int)(*rxNext % RingSize));
            pkts[i] = *(uint*)desc;
            *(uint*)desc = Allocate();
            *(ushort*)(desc + 10) = 0;
            *rxNext = (*rxNext + 1) % RingSize;
        }

        *rxCount += (ulong)burst;

        // l2fwd_simple_forward: rewrite MACs, then tx_burst on the other port.
        for (int i = 0; i < burst; i++)
        {
            byte* mbuf = Mbuf(pkts[i]);
            byte* data = mbuf + DataOffset;
            *(uint*)data = 0x0000_0002;                 // 02:00:00:00:00:<port>
            *(ushort*)(data + 4) = (ushort)(outPort << 8);
            *(uint*)(data + 6) = 0x00_00_00_02 | (uint)outPort << 24;
            *(ushort*)(mbuf + 20) = (ushort)outPort;    // mbuf->port
            *(uint*)(mbuf + 24) = FrameBytes;           // pkt_len
            byte* desc = TxDescriptor(outPort, (int)(*txNext % RingSize));
            *(uint*)desc = pkts[i];
            *(ushort*)(desc + 8) = FrameBytes;
            *txNext = (*txNext + 1) % RingSize;
        }

        // TX completion: the NIC sent them; the driver frees the mbufs back to the cache.
        for (int i = 0; i < burst; i++)
        {
            Free(pkts[i]);
        }

        *txCount += (ulong)burst;
    }

    private uint Allocate()
    {
        if (_cache[0] == 0)
        {
            // Refill the cache from the pool ring in bulk, as rte_mempool_get does.
            uint available = _pool[1] - _pool[0];
            uint take = Math.Min(available, CacheSize);
            for (uint i = 0; i < take; i++)
            {
                _cache[1 + i] = _pool[2 + (_pool[0] + i) % PoolSlots];
            }

            _pool[0] += take;
            _cache[0] = take;
            if (take == 0)
            {
                throw new InvalidOperationException("mbuf pool exhausted");
            }
        }

        return _cache[_cache[0]--];
    }

    private void Free(uint mbuf)
    {
        _cache[1 + _cache[0]++] = mbuf;
        if (_cache[0] >= FlushThreshold)
        {
            // Flush the excess above the cache size back to the pool ring.
            while (_cache[0] > CacheSize)
            {
                _pool[2 + _pool[1] % PoolSlots] = _cache[_cache[0]--];
                _pool[1]++;
            }
        }
    }

    private byte* Mbuf(uint index) => _mbufs + (long)(index % MbufCount) * MbufBytes;

    private byte* RxDescriptor(int port, int index) => _rxRings + ((long)port * RingSize + index) * 16;

    private byte* TxDescriptor(int port, int index) => _txRings + ((long)port * RingSize + index) * 16;
}
