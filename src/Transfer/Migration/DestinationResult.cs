namespace Ferry.Transfer.Migration;

/// <summary>What the destination received.</summary>
/// <param name="Succeeded">True when every stream completed and the guest was started.</param>
/// <param name="FailureReason">Why not; null on success.</param>
/// <param name="PagesWritten">Pages written with contents.</param>
/// <param name="ZeroPages">Pages zeroed from zero ranges.</param>
/// <param name="BytesReceived">Bytes on the wire.</param>
public sealed record DestinationResult(bool Succeeded, string? FailureReason, long PagesWritten, long ZeroPages, long BytesReceived)
{
    /// <summary>How long starting the guest took, from the final acks sent to the guest confirmed running (inside the downtime).</summary>
    public TimeSpan GuestStart { get; init; }
}
