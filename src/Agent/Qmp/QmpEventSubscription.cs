using System.Threading.Channels;

namespace Ferry.Agent.Qmp;

/// <summary>
/// One subscriber's view of the event stream, registered when created so no event between
/// subscribing and the first read is lost. The reader completes (with a <see cref="QmpException"/>)
/// when the connection ends.
/// </summary>
public sealed class QmpEventSubscription : IDisposable
{
    private readonly Channel<QmpEvent> _channel;
    private readonly Action<QmpEventSubscription> _unsubscribe;

    internal QmpEventSubscription(Channel<QmpEvent> channel, Action<QmpEventSubscription> unsubscribe)
    {
        _channel = channel;
        _unsubscribe = unsubscribe;
    }

    public ChannelReader<QmpEvent> Reader => _channel.Reader;

    internal bool TryPublish(QmpEvent qmpEvent) => _channel.Writer.TryWrite(qmpEvent);

    internal void Complete(Exception? error) => _channel.Writer.TryComplete(error);

    public void Dispose()
    {
        _unsubscribe(this);
        _channel.Writer.TryComplete();
    }
}
