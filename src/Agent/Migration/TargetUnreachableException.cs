namespace Ferry.Agent.Migration;

/// <summary>The target agent could not be asked (down, hanging, or refusing); an <see cref="IOException"/> like any broken link.</summary>
public sealed class TargetUnreachableException : IOException
{
    public TargetUnreachableException()
    {
    }

    public TargetUnreachableException(string message)
        : base(message)
    {
    }

    public TargetUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
