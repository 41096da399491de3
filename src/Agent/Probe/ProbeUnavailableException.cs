namespace Ferry.Agent.Probe;

/// <summary>A probe was asked for that this host cannot run; the message says why.</summary>
public sealed class ProbeUnavailableException : Exception
{
    public ProbeUnavailableException()
    {
    }

    public ProbeUnavailableException(string message)
        : base(message)
    {
    }

    public ProbeUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
