namespace Ferry.Agent.Qmp;

/// <summary>
/// The one way QMP operations fail. Every expected failure (error answer, timeout, closed socket,
/// garbage) is this type with a <see cref="Failure"/> kind, so callers never catch socket or JSON
/// exceptions from the client.
/// </summary>
public sealed class QmpException : Exception
{
    public QmpException()
        : this(QmpFailure.ProtocolViolation, "QMP operation failed.")
    {
    }

    public QmpException(string message)
        : this(QmpFailure.ProtocolViolation, message)
    {
    }

    public QmpException(string message, Exception innerException)
        : this(QmpFailure.ProtocolViolation, message, innerException)
    {
    }

    public QmpException(QmpFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    public QmpFailure Failure { get; }

    /// <summary>QEMU's error class (for example <c>GenericError</c>) when <see cref="Failure"/> is <see cref="QmpFailure.CommandFailed"/>.</summary>
    public string? ErrorClass { get; init; }

    /// <summary>The command that failed, when the failure belongs to one command.</summary>
    public string? Command { get; init; }
}
