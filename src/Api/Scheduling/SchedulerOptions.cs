using System.ComponentModel.DataAnnotations;

namespace Ferry.Api.Scheduling;

/// <summary>Scheduler settings, section <c>Ferry:Scheduler</c>.</summary>
public sealed class SchedulerOptions
{
    public const string Section = "Ferry:Scheduler";

    /// <summary>Whether this API instance schedules at all (replicas may serve REST only).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the queue is polled; a new request also wakes the scheduler at once.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a claim holds before another replica may take the migration over.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Migrations claimed per poll.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 20;

    /// <summary>Migrations in flight out of one host at once.</summary>
    [Range(1, 100)]
    public int MaxOutboundPerHost { get; set; } = 1;

    /// <summary>Migrations in flight into one host at once.</summary>
    [Range(1, 100)]
    public int MaxInboundPerHost { get; set; } = 1;

    /// <summary>Migrations in flight in the whole cluster.</summary>
    [Range(1, 10000)]
    public int MaxClusterWide { get; set; } = 5;

    /// <summary>A migration still queued after this long fails (capacity never freed up).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Identifies this instance in leases; defaults to host name and process id.</summary>
    public string? InstanceId { get; set; }
}
