using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Ferry.Agent.Qmp;

/// <summary>
/// A negotiated QMP connection to one QEMU process. QMP is root-equivalent, so it is only ever
/// opened on a UNIX socket the agent owns. Every failure surfaces as <see cref="QmpException"/>;
/// caller cancellation surfaces as <see cref="OperationCanceledException"/>.
/// </summary>
public interface IQmpClient : IAsyncDisposable
{
    QmpGreeting Greeting { get; }

    /// <summary>Completes when the connection ends, with the reason (never faults).</summary>
    Task<QmpException> Closed { get; }

    /// <summary>Runs a command without arguments and returns its <c>return</c> member.</summary>
    Task<JsonElement> ExecuteAsync(string command, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Runs a command whose arguments are serialized by <paramref name="argumentsType"/>, never by string building.</summary>
    Task<JsonElement> ExecuteAsync<TArguments>(
        string command,
        TArguments arguments,
        JsonTypeInfo<TArguments> argumentsType,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default);

    /// <summary>Starts receiving events from now on.</summary>
    QmpEventSubscription SubscribeEvents();
}
