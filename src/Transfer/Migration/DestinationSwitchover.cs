using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Ferry.Transfer.Protocol;

namespace Ferry.Transfer.Migration;

/// <summary>
/// Acknowledges, starts the guest and confirms it on the thread of the last stream to finish
/// its final pass, so no hop to another thread sits between the last page and the guest start.
/// </summary>
internal sealed class DestinationSwitchover(List<PageStreamReceiver> receivers, int streams,
    Func<ReadOnlyMemory<byte>, CancellationToken, Task> startGuest, CancellationToken cancellationToken)
{
    private readonly ReceiveOutcome[] _outcomes = new ReceiveOutcome[streams];
    private int _finished;
    private ExceptionDispatchInfo? _failure;

    /// <summary>Why the guest was not started although every stream finished; null otherwise.</summary>
    public string? Refusal { get; private set; }

    /// <summary>Acks sent → guest started.</summary>
    public TimeSpan GuestStart { get; private set; }

    public ReceiveOutcome Receive(PageStreamReceiver receiver)
    {
        var outcome = receiver.Run();
        if (outcome.Completed)
        {
            _outcomes[receiver.StreamIndex] = outcome;
            if (Interlocked.Increment(ref _finished) == streams)
            {
                Run();
            }
        }

        return outcome;
    }

    public void ThrowIfFailed() => _failure?.Throw();

    private void Run()
    {
        int finalPass = _outcomes[0].FinalPass;
        if (_outcomes.Any(o => o.FinalPass != finalPass))
        {
            Refusal = "streams disagree on the final pass";
            return;
        }

        PageStreamReceiver[] all;
        lock (receivers)
        {
            all = [.. receivers];
        }

        try
        {
            // Every stream has applied its whole final pass: only now may the source count its pages as delivered.
            foreach (var receiver in all)
            {
                receiver.Replies.WriteAck(FrameType.Final, finalPass);
                receiver.Replies.Flush();
            }

            var deviceState = all.Select(r => r.DeviceState).FirstOrDefault(d => d is not null) ?? [];
            long acknowledged = Stopwatch.GetTimestamp();
            startGuest(deviceState, cancellationToken).GetAwaiter().GetResult();
            GuestStart = Stopwatch.GetElapsedTime(acknowledged);
            var primary = all.First(r => r.StreamIndex == 0);
            primary.Replies.WriteRunning();
            primary.Replies.Flush();
        }
        catch (Exception e)
        {
            _failure = ExceptionDispatchInfo.Capture(e);
        }
    }
}
