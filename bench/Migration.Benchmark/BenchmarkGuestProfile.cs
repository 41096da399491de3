using System.Globalization;
using Ferry.Transfer.Dirty;
using Ferry.Transfer.Memory;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// How the two source guests of a profile dirty memory, made equal where that is possible:
/// <list type="bullet">
/// <item><c>idle</c>: neither writes (SeaBIOS idling with no boot device; the idle workload).</item>
/// <item><c>sweep</c>: both stamp pages in address order at the same rate: the engine's workload with
/// <c>sweep --dirty-rate R</c>, the QEMU guest a PIT-paced boot sector stepping R pages per second.</item>
/// <item><c>l2fwd</c>: the engine runs the workload's DPDK-style forwarder; its dirty pattern is measured
/// with the real tracker (distinct pages written per 100 ms and per 10 ms) and the QEMU guest
/// runs the PIT-paced boot sector over a hot set of that many pages at that rate. A DPDK guest
/// cannot run in QEMU here, so this is the same dirty footprint, not the same program.</item>
/// </list>
/// The rates the QEMU guest actually achieves are measured from its RAM file before every run and
/// a run set is refused when either side is off the target by more than 25 %.
/// </summary>
internal sealed class BenchmarkGuestProfile
{
    private const double Tolerance = 0.25;

    /// <summary>
    /// Time the rate checks may take before the migration starts. Both sources migrate when they are
    /// Settle + this old, so a sweeping guest has made the same number of pages non-zero on both sides.
    /// </summary>
    private static readonly TimeSpan CheckBudget = TimeSpan.FromSeconds(4);

    private BenchmarkGuestProfile(string name, IReadOnlyList<string> workloadArguments, string method)
    {
        Name = name;
        WorkloadArguments = workloadArguments;
        DirtyMethod = method;
    }

    public string Name { get; }

    /// <summary>Arguments of the engine's workload guest (after <c>--ram</c>).</summary>
    public IReadOnlyList<string> WorkloadArguments { get; }

    /// <summary>The QEMU guest's boot sector; null boots nothing (SeaBIOS idles).</summary>
    public byte[]? BootSector { get; private init; }

    /// <summary>The range the QEMU guest dirties and its programmed rate in pages per second.</summary>
    public (uint Start, uint End, double Rate)? Paced { get; private init; }

    /// <summary>How the equal dirtying is achieved, for the output.</summary>
    public string DirtyMethod { get; }

    /// <summary>Builds the profile, or says why it cannot dirty the same way under both.</summary>
    public static async Task<(BenchmarkGuestProfile? Profile, string? Refusal)> CreateAsync(BenchmarkHost host, CancellationToken cancellationToken)
    {
        var options = host.Options;
        uint top = (uint)Math.Min(options.SizeBytes, 3L << 30) - (1u << 20);
        switch (options.Profile)
        {
            case "idle":
                return (new BenchmarkGuestProfile("idle", ["--profile", "idle"], "idle: neither guest writes (QEMU: SeaBIOS with no boot device; engine: workload idle)"), null);
            case "sweep":
            {
                var (pages, ticks) = PacedDirtyBootSector.Pacing(options.DirtyRate);
                double rate = PacedDirtyBootSector.Rate(pages, ticks);
                return (new BenchmarkGuestProfile("sweep", ["--profile", "sweep", "--dirty-rate", options.DirtyRate.ToString(CultureInfo.InvariantCulture)],
                    string.Create(CultureInfo.InvariantCulture,
                        $"sweep: both write pages in address order at {options.DirtyRate} pages/s; QEMU guest = PIT-paced boot sector ({pages} pages per {ticks} PIT ticks = {rate:0} pages/s), engine = workload sweep --dirty-rate {options.DirtyRate}"))
                {
                    BootSector = PacedDirtyBootSector.Build(1u << 20, top, pages, ticks),
                    Paced = (1u << 20, top, rate),
                }, null);
            }

            case "l2fwd":
            {
                var (hot, per10ms) = await MeasureL2ForwardAsync(host, cancellationToken);
                double rate = Math.Max(per10ms * 100.0, hot * 10.0);
                uint end = (1u << 20) + (uint)hot * 4096u;
                if (end > top)
                {
                    return (null, $"l2fwd's hot set of {hot} pages does not fit the QEMU guest's RAM");
                }

                var (pages, ticks) = PacedDirtyBootSector.Pacing(rate);
                double programmed = PacedDirtyBootSector.Rate(pages, ticks);
                return (new BenchmarkGuestProfile("l2fwd", ["--profile", "l2fwd"],
                    string.Create(CultureInfo.InvariantCulture,
                        $"l2fwd: engine = workload l2fwd (2013 Mbit/s of 64 B frames), measured with the uffd-wp tracker: {hot} distinct pages per 100 ms, {per10ms} per 10 ms; QEMU guest = PIT-paced boot sector cycling a hot set of {hot} pages at {programmed:0} pages/s ({pages} pages per {ticks} PIT ticks): same dirty footprint, not the same program"))
                {
                    BootSector = PacedDirtyBootSector.Build(1u << 20, end, pages, ticks),
                    Paced = (1u << 20, end, programmed),
                }, null);
            }

            default:
                return (null, $"PROFILE '{options.Profile}' cannot be made to dirty the same way under QEMU and the engine here; profiles: idle, sweep, l2fwd (random writes cannot be reproduced by a boot-sector guest's sequential pacing, so it is refused rather than compared)");
        }
    }

    /// <summary>Lets the QEMU source settle and, for a paced guest, checks the rate it really dirties at.</summary>
    public async Task<string> SettleQemuAsync(BenchmarkHost host, QemuInstance source, long startedAt, CancellationToken cancellationToken)
    {
        await Task.Delay(host.Options.Settle, cancellationToken);
        if (Paced is not { } paced)
        {
            return "";
        }

        // Each read sweeps the whole range and takes a while, so a page's sampling window is the gap
        // between the two reads' midpoints on average; a long gap keeps the writer's position from mattering.
        long firstStart = System.Diagnostics.Stopwatch.GetTimestamp();
        var first = await ReadCountersAsync(source.RamFile, paced.Start, paced.End, cancellationToken);
        long firstEnd = System.Diagnostics.Stopwatch.GetTimestamp();
        // A one-byte counter wraps after 256 writes: keep the gap well below that per page of the range.
        double writesPerPagePerSecond = paced.Rate / ((paced.End - paced.Start) / 4096.0);
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(2, 100 / writesPerPagePerSecond)), cancellationToken);
        long secondStart = System.Diagnostics.Stopwatch.GetTimestamp();
        var second = await ReadCountersAsync(source.RamFile, paced.Start, paced.End, cancellationToken);
        long secondEnd = System.Diagnostics.Stopwatch.GetTimestamp();
        double seconds = (secondStart + secondEnd - firstStart - firstEnd) / 2.0 / System.Diagnostics.Stopwatch.Frequency;
        long writes = 0;
        for (int i = 0; i < first.Length; i++)
        {
            writes += (byte)(second[i] - first[i]);
        }

        double measured = writes / seconds;
        if (Math.Abs(measured - paced.Rate) > Tolerance * paced.Rate)
        {
            bool kvm = host.Accelerator.Accelerator == Agent.Qemu.Accelerator.Kvm;
            throw new ProfileMismatchException(
                string.Create(CultureInfo.InvariantCulture,
                    $"the QEMU guest dirtied {measured:0} pages/s, not the {paced.Rate:0} it was programmed for ({(kvm ? "KVM did not keep its PIT pace" : "TCG could not keep up?")})"),
                qemuGuestUnderKvm: kvm);
        }

        await WaitUntilAgedAsync(host, startedAt, cancellationToken);
        return string.Create(CultureInfo.InvariantCulture, $", guest measured {measured:0} pages/s");
    }

    /// <summary>
    /// Lets the engine's source settle and measures what it dirties with the tracker the migration
    /// then uses (the migration resets it first): distinct pages per 100 ms, which must match what
    /// the QEMU guest dirties in 100 ms (its programmed rate, capped by its range) within 25 %.
    /// </summary>
    public async Task<string> SettleNativeAsync(BenchmarkHost host, IDirtyTracker tracker, GuestMemory memory, long startedAt, CancellationToken cancellationToken)
    {
        await Task.Delay(host.Options.Settle, cancellationToken);
        if (Paced is not { } paced)
        {
            return "";
        }

        var dirty = new DirtyPageSet(memory.PageCount);
        var samples = new List<long>();
        for (int i = 0; i < 5; i++)
        {
            dirty.Clear();
            tracker.CollectAndClear(dirty);
            dirty.Clear();
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            tracker.CollectAndClear(dirty);
            samples.Add(dirty.Count);
        }

        double measured = samples.Order().ElementAt(samples.Count / 2);
        double expected = Math.Min(paced.Rate / 10, (paced.End - paced.Start) / 4096.0);
        if (Math.Abs(measured - expected) > Tolerance * expected)
        {
            throw new ProfileMismatchException(string.Create(CultureInfo.InvariantCulture,
                $"the engine's workload dirtied {measured:0} distinct pages per 100 ms, the QEMU guest is set for {expected:0}"));
        }

        await WaitUntilAgedAsync(host, startedAt, cancellationToken);
        return string.Create(CultureInfo.InvariantCulture, $", workload {measured:0} distinct pages/100 ms (QEMU guest set for {expected:0})");
    }

    private static async Task WaitUntilAgedAsync(BenchmarkHost host, long startedAt, CancellationToken cancellationToken)
    {
        var left = host.Options.Settle + CheckBudget - System.Diagnostics.Stopwatch.GetElapsedTime(startedAt);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, cancellationToken);
        }
    }

    private static async Task<(long Hot, long Per10Ms)> MeasureL2ForwardAsync(BenchmarkHost host, CancellationToken cancellationToken)
    {
        string ram = host.ShmFile("probe");
        try
        {
            using (var create = GuestMemory.Create(ram, Math.Min(host.Options.SizeBytes, 256L << 20)))
            {
                // A hole-only scratch RAM file for the probe workload; the forwarder's footprint does not depend on the size.
            }

            using var workload = await WorkloadGuest.StartAsync(host, ram, ["--profile", "l2fwd"]);
            using var memory = GuestMemory.Open(ram);
            using var tracker = DirtyTracking.OpenWrittenPageTracker(workload.Pid, memory);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var dirty = new DirtyPageSet(memory.PageCount);
            var per100 = new List<long>();
            var per10 = new List<long>();
            foreach (var (interval, into) in new[] { (100, per100), (10, per10) })
            {
                for (int i = 0; i < 10; i++)
                {
                    dirty.Clear();
                    tracker.CollectAndClear(dirty);
                    dirty.Clear();
                    await Task.Delay(interval, cancellationToken);
                    tracker.CollectAndClear(dirty);
                    into.Add(dirty.Count);
                }
            }

            return (per100.Order().ElementAt(per100.Count / 2), per10.Order().ElementAt(per10.Count / 2));
        }
        finally
        {
            File.Delete(ram);
        }
    }

    private static async Task<byte[]> ReadCountersAsync(string ramFile, uint start, uint end, CancellationToken cancellationToken)
    {
        int pages = (int)((end - start) / 4096);
        var counters = new byte[pages];
        var chunk = new byte[1 << 20];
        using var handle = File.OpenHandle(ramFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        for (int first = 0; first < pages; first += chunk.Length / 4096)
        {
            int count = Math.Min(chunk.Length / 4096, pages - first);
            int read = await RandomAccess.ReadAsync(handle, chunk.AsMemory(0, count * 4096), start + (long)first * 4096, cancellationToken);
            for (int i = 0; i < count && i * 4096 < read; i++)
            {
                counters[first + i] = chunk[i * 4096];
            }
        }

        return counters;
    }
}
