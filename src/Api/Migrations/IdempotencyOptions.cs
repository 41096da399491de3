using System.ComponentModel.DataAnnotations;

namespace Ferry.Api.Migrations;

/// <summary>How long an <c>Idempotency-Key</c> is remembered, section <c>Ferry:Idempotency</c>.</summary>
public sealed class IdempotencyOptions
{
    public const string Section = "Ferry:Idempotency";

    /// <summary>After this, the same key is a new request (and its record is deleted). Retries come within minutes; a day covers an orchestrator's restart.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(24);
}
