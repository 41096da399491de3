using System.ComponentModel.DataAnnotations;

namespace Ferry.Agent.Testing;

/// <summary>
/// Test-only fault injection, section <c>Ferry:Testing</c> (the API reads the same file there, <c>QueueHoldOptions</c>). Off (inert) unless <see cref="HoldFile"/> is set;
/// never set it in production: a held migration waits, with the guest where it is, until the file changes.
/// </summary>
public sealed class FaultHoldOptions
{
    public const string Section = "Ferry:Testing";

    /// <summary>
    /// A file naming the phase to hold at (<c>preparingTarget</c>, <c>running</c>, <c>switchingOver</c>,
    /// <c>cleaningUp</c>). At the start of that phase the agent writes <c>HoldFile.held</c> (the phase and the
    /// migration id), then waits until the file no longer names the phase or <see cref="MaxHold"/> passed.
    /// The end-to-end fault suite uses it to kill a part inside a phase too short to hit otherwise.
    /// </summary>
    public string? HoldFile { get; set; }

    /// <summary>The longest a hold lasts when the test never releases it (a test that died).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan MaxHold { get; set; } = TimeSpan.FromSeconds(60);
}
