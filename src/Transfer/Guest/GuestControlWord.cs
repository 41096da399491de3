using System.Diagnostics;
using System.Text;
using Ferry.Transfer.Interop;
using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Guest;

/// <summary>
/// A run-state word shared between a native guest (the engine's workload) and whoever pauses,
/// resumes and starts it, in a one-page file beside the guest's RAM file. It replaces request
/// and answer lines on pipes inside the downtime window: a pause is one compare-and-swap that
/// the guest's worker sees at the end of its current step, acknowledged in the same word, and
/// an incoming guest waits on the word (futex) until its destination asks it to start.
/// </summary>
/// <remarks>
/// The word lives outside the RAM file on purpose: the RAM file is guest state and migrates, so
/// a word in it would reach the destination with whatever the source last wrote there, and a
/// "running" copied over early could start the incoming guest on half its memory.
/// <para>
/// Transitions. The controller moves Running → PauseRequested, Quiescent → Paused (a guest
/// between steps writes nothing, so it is paused at once), Paused → Running,
/// Incoming or StartRefused → StartRequested. The guest moves PauseRequested → Paused after its
/// step (its writes are complete: the swap is a full barrier), Running ⇄ Quiescent around its
/// waits, StartRequested → Running or StartRefused. Every move is a compare-and-swap, so a
/// pause and a guest going quiescent cannot both win.
/// </para>
/// </remarks>
public sealed unsafe class GuestControlWord : IDisposable
{
    private const int AnnouncedOffset = 8;
    private const int ReasonOffset = 64;
    private const int ReasonCapacity = 1024;

    /// <summary>Spin this long for an acknowledgement before sleeping on the futex: a guest in a busy loop answers within microseconds.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000; // 100 µs

    private readonly GuestMemory _file;
    private readonly int* _word;

    private GuestControlWord(GuestMemory file)
    {
        _file = file;
        _word = (int*)file.Pointer;
        // Binds the syscall stub and compiles both calls now, not inside the first downtime window.
        Futex.WakeAll(_word);
        Futex.WaitWhile(_word, Volatile.Read(ref *_word) ^ 1, TimeSpan.Zero);
    }

    /// <summary>A path the guest process can open (a memfd's /proc path, valid while this object lives).</summary>
    public string FilePath => _file.FilePath;

    /// <summary>The current state.</summary>
    public GuestRunState State => (GuestRunState)Volatile.Read(ref *_word);

    /// <summary>Creates a fresh control file in a memfd, for a controller that then starts the guest with its <see cref="FilePath"/>.</summary>
    public static GuestControlWord Create() => new(GuestMemory.CreateMemfd("ferry-guest-control", Environment.SystemPageSize));

    /// <summary>Maps an existing control file.</summary>
    /// <param name="path">Its path, e.g. the <see cref="FilePath"/> of the controller's instance.</param>
    public static GuestControlWord Open(string path) => new(GuestMemory.Open(path));

    /// <summary>Controller: pauses a running guest and returns once it acknowledged; from then on it writes nothing.</summary>
    /// <param name="timeout">How long the guest may take to acknowledge.</param>
    /// <exception cref="InvalidOperationException">The guest is not running.</exception>
    /// <exception cref="TimeoutException">No acknowledgement in time.</exception>
    public void Pause(TimeSpan timeout)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var state = State;
            switch (state)
            {
                case GuestRunState.Paused:
                    return;
                case GuestRunState.Quiescent when Swap(GuestRunState.Quiescent, GuestRunState.Paused):
                    return;
                case GuestRunState.Running when Swap(GuestRunState.Running, GuestRunState.PauseRequested):
                case GuestRunState.PauseRequested:
                    var now = AwaitChange(GuestRunState.PauseRequested, deadline);
                    if (now != GuestRunState.Paused)
                    {
                        throw new InvalidOperationException($"the guest went from PauseRequested to {now}");
                    }

                    return;
                case GuestRunState.Running or GuestRunState.Quiescent:
                    continue; // the guest moved between Running and Quiescent under us
                default:
                    throw new InvalidOperationException($"cannot pause a guest that is {state}");
            }
        }
    }

    /// <summary>Controller: lets a paused guest run again (nothing to do if it runs).</summary>
    /// <exception cref="InvalidOperationException">The guest is neither paused nor running.</exception>
    public void Resume()
    {
        if (Swap(GuestRunState.Paused, GuestRunState.Running))
        {
            Futex.WakeAll(_word);
            return;
        }

        if (State is not (GuestRunState.Running or GuestRunState.Quiescent))
        {
            throw new InvalidOperationException($"cannot resume a guest that is {State}");
        }
    }

    /// <summary>
    /// Controller: tells an incoming guest that its start is near (the source is pausing). The
    /// guest then stops sleeping on the word and watches it, yielding its CPU, so the start inside
    /// the downtime does not wait for a sleeping thread to be woken (on a virtual machine an idle
    /// vCPU takes milliseconds to wake). The guest watches for a bounded time only.
    /// </summary>
    public void AnnounceStart()
    {
        Volatile.Write(ref *(int*)(_file.Pointer + AnnouncedOffset), 1);
        Futex.WakeAll(_word);
    }

    /// <summary>Guest: whether a start was announced and not yet taken back by <see cref="WatchForStart"/>.</summary>
    public bool StartAnnounced => Volatile.Read(ref *(int*)(_file.Pointer + AnnouncedOffset)) != 0;

    /// <summary>
    /// Guest: after <see cref="AnnounceStart"/>, watches the word while it is Incoming, yielding
    /// between looks, for at most <paramref name="limit"/>; then forgets the announcement (a
    /// migration that failed after it must not keep the guest busy) and returns.
    /// </summary>
    /// <param name="limit">The longest watch.</param>
    public void WatchForStart(TimeSpan limit)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (State == GuestRunState.Incoming && Stopwatch.GetTimestamp() < deadline)
        {
            Thread.Yield();
        }

        Volatile.Write(ref *(int*)(_file.Pointer + AnnouncedOffset), 0);
    }

    /// <summary>Controller: starts an incoming guest on the RAM it received and returns once it runs.</summary>
    /// <param name="timeout">How long the guest may take to start.</param>
    /// <exception cref="InvalidDataException">The guest refused: its RAM holds no state to resume (the message says why).</exception>
    /// <exception cref="InvalidOperationException">The guest is not waiting to start.</exception>
    /// <exception cref="TimeoutException">It did not answer in time.</exception>
    public void Start(TimeSpan timeout)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        if (!Swap(GuestRunState.Incoming, GuestRunState.StartRequested) && !Swap(GuestRunState.StartRefused, GuestRunState.StartRequested))
        {
            throw new InvalidOperationException($"cannot start a guest that is {State}");
        }

        Futex.WakeAll(_word);
        var now = AwaitChange(GuestRunState.StartRequested, deadline);
        if (now == GuestRunState.StartRefused)
        {
            throw new InvalidDataException(Reason);
        }

        if (now is not (GuestRunState.Running or GuestRunState.Quiescent or GuestRunState.PauseRequested or GuestRunState.Paused))
        {
            throw new InvalidOperationException($"the guest went from StartRequested to {now}");
        }
    }

    /// <summary>Guest: claims the word in its first state (Running, Paused or Incoming).</summary>
    /// <param name="state">The state to start in.</param>
    public void Claim(GuestRunState state)
    {
        *(int*)(_file.Pointer + ReasonOffset) = 0;
        *(int*)(_file.Pointer + AnnouncedOffset) = 0;
        Volatile.Write(ref *_word, (int)state);
        Futex.WakeAll(_word);
    }

    /// <summary>Guest: between steps, with nothing due; true when it is now Quiescent and may wait.</summary>
    public bool TryEnterQuiescent() => Swap(GuestRunState.Running, GuestRunState.Quiescent);

    /// <summary>Guest: waits up to <paramref name="timeout"/> while Quiescent, then claims Running back unless paused meanwhile.</summary>
    /// <param name="timeout">The longest wait (the guest's own pacing).</param>
    public void WaitQuiescent(TimeSpan timeout)
    {
        Futex.WaitWhile(_word, (int)GuestRunState.Quiescent, timeout);
        Swap(GuestRunState.Quiescent, GuestRunState.Running);
    }

    /// <summary>Guest: acknowledges a pause request after its current step; its writes are complete before the swap.</summary>
    public void AcknowledgePause()
    {
        if (Swap(GuestRunState.PauseRequested, GuestRunState.Paused))
        {
            Futex.WakeAll(_word);
        }
    }

    /// <summary>Guest: acknowledges a start request.</summary>
    public void AcknowledgeStart()
    {
        if (Swap(GuestRunState.StartRequested, GuestRunState.Running))
        {
            Futex.WakeAll(_word);
        }
    }

    /// <summary>Guest: refuses a start request with a reason the controller reports.</summary>
    /// <param name="reason">Why (shown to an operator).</param>
    public void RefuseStart(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var bytes = new Span<byte>(_file.Pointer + ReasonOffset + 4, ReasonCapacity);
        int length = Encoding.UTF8.GetBytes(reason.AsSpan(0, Math.Min(reason.Length, ReasonCapacity / 4)), bytes);
        *(int*)(_file.Pointer + ReasonOffset) = length;
        if (Swap(GuestRunState.StartRequested, GuestRunState.StartRefused))
        {
            Futex.WakeAll(_word);
        }
    }

    /// <summary>Guest: marks itself gone and wakes any waiter.</summary>
    public void MarkStopped()
    {
        Volatile.Write(ref *_word, (int)GuestRunState.Stopped);
        Futex.WakeAll(_word);
    }

    /// <summary>Sleeps while the state is <paramref name="state"/>, at most <paramref name="timeout"/> (infinite when null).</summary>
    /// <param name="state">The state to wait out.</param>
    /// <param name="timeout">The longest wait.</param>
    public void WaitWhile(GuestRunState state, TimeSpan? timeout) => Futex.WaitWhile(_word, (int)state, timeout);

    /// <summary>Wakes every waiter (a guest's own threads use this when it stops).</summary>
    public void WakeAll() => Futex.WakeAll(_word);

    /// <inheritdoc/>
    public void Dispose() => _file.Dispose();

    private string Reason
    {
        get
        {
            int length = Math.Clamp(*(int*)(_file.Pointer + ReasonOffset), 0, ReasonCapacity);
            return Encoding.UTF8.GetString(new ReadOnlySpan<byte>(_file.Pointer + ReasonOffset + 4, length));
        }
    }

    private bool Swap(GuestRunState from, GuestRunState to) =>
        Interlocked.CompareExchange(ref *_word, (int)to, (int)from) == (int)from;

    private GuestRunState AwaitChange(GuestRunState from, long deadline)
    {
        long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
        while (true)
        {
            var state = State;
            if (state != from)
            {
                return state;
            }

            long now = Stopwatch.GetTimestamp();
            if (now < spinUntil)
            {
                Thread.SpinWait(20);
                continue;
            }

            if (now >= deadline)
            {
                throw new TimeoutException($"the guest stayed {from}");
            }

            // Bounded so a guest that died without waking us is noticed at the deadline.
            Futex.WaitWhile(_word, (int)from, TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond / 10, (deadline - now) * TimeSpan.TicksPerSecond / Stopwatch.Frequency + 1)));
        }
    }
}
