namespace Ferry.Api.Http;

internal static class Clock
{
    /// <summary>Now, truncated to PostgreSQL's microsecond resolution so what is returned equals what is read back.</summary>
    public static DateTimeOffset Now(this TimeProvider time)
    {
        var now = time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
    }
}
