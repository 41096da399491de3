using System.ComponentModel.DataAnnotations;

namespace Ferry.Api.Events;

/// <summary>The event streams' settings, section <c>Ferry:Events</c>.</summary>
public sealed class EventOptions
{
    public const string Section = "Ferry:Events";

    /// <summary>The least time between two progress events of one migration (samples in between update only its <c>progress</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a stream may stay silent before it sends a <c>: keepalive</c> comment (proxies close idle connections).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often a stream reads the event log without being woken: the safety net for a notification
    /// lost while a replica's listening connection was down.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often the event log's sequencer runs a pass without being woken by a commit's notification: the
    /// safety net for one lost while a replica's listening connection was down (events wait at most this long).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan SequencePollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
