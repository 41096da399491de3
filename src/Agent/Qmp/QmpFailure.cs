namespace Ferry.Agent.Qmp;

/// <summary>Why a QMP operation failed; callers branch on this, not on message text.</summary>
public enum QmpFailure
{
    /// <summary>QEMU answered with an <c>error</c> object.</summary>
    CommandFailed,

    /// <summary>No answer within the command's timeout.</summary>
    Timeout,

    /// <summary>The socket closed (or could not be opened) before the answer arrived.</summary>
    ConnectionClosed,

    /// <summary>The peer sent something that is not QMP: garbage, a truncated message, an unknown shape.</summary>
    ProtocolViolation,
}
