namespace Ferry.Lab;

/// <summary>The lab cannot go on at all (the API is unreachable, or refuses what every migration of a case needs).</summary>
internal sealed class LabAbortedException : Exception
{
    public LabAbortedException()
    {
    }

    public LabAbortedException(string message)
        : base(message)
    {
    }

    public LabAbortedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
