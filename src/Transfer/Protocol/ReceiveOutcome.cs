namespace Ferry.Transfer.Protocol;

/// <summary>How one stream's receive loop ended.</summary>
/// <param name="Error"><see cref="ReceiveError.None"/> when the final marker arrived.</param>
/// <param name="FinalPass">Pass number carried by the final marker, or -1.</param>
public readonly record struct ReceiveOutcome(ReceiveError Error, int FinalPass)
{
    /// <summary>True when the stream completed its final pass.</summary>
    public bool Completed => Error == ReceiveError.None;
}
