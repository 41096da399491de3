namespace Ferry.Agent.Qemu;

/// <summary>QEMU did not start or its QMP socket never answered; the message carries the end of its log.</summary>
public sealed class QemuLaunchException : Exception
{
    public QemuLaunchException()
    {
    }

    public QemuLaunchException(string message)
        : base(message)
    {
    }

    public QemuLaunchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
