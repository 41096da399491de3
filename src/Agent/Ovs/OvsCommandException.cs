namespace Ferry.Agent.Ovs;

/// <summary>An OVS command or daemon failed; the message carries its output.</summary>
public sealed class OvsCommandException : Exception
{
    public OvsCommandException()
    {
    }

    public OvsCommandException(string message)
        : base(message)
    {
    }

    public OvsCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
