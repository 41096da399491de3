using System.ComponentModel.DataAnnotations;

namespace Ferry.Api.Agents;

/// <summary>How the API talks to agents and judges their liveness, section <c>Ferry:Agents</c>.</summary>
public sealed class AgentClientOptions
{
    public const string Section = "Ferry:Agents";

    /// <summary>Deadline of short calls (describe, status, cancel, cleanup).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan CallDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deadline of PrepareIncoming: preallocating a large guest's memory takes a while.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PrepareDeadline { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How often agents heartbeat.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A host whose agent missed this many heartbeats is marked down.</summary>
    [Range(1, 100)]
    public int MissedHeartbeatsForDown { get; set; } = 3;

    /// <summary>Retries of idempotent calls after a transient failure.</summary>
    [Range(1, 10)]
    public int Retries { get; set; } = 3;

    /// <summary>Consecutive failures after which calls to a host fail fast for <see cref="BreakDuration"/>.</summary>
    [Range(1, 1000)]
    public int BreakAfterFailures { get; set; } = 5;

    /// <summary>
    /// How long past the pause the API keeps asking the agents where a guest runs whose source result was lost,
    /// before it records the migration failed with the guest's place unknown.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan ReconcileDeadline { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long calls to a host fail fast once <see cref="BreakAfterFailures"/> consecutive calls failed, before one is tried again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}
