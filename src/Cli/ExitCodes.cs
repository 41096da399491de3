using System.Net;

namespace Ferry.Cli;

/// <summary>What <c>ferry</c> exits with; scripts branch on these, so they never change meaning.</summary>
internal static class ExitCodes
{
    /// <summary>Done; a followed migration completed (within its SLA when <c>--fail-on-sla</c> asked).</summary>
    public const int Success = 0;

    /// <summary>A followed migration failed or was cancelled, or missed its SLA under <c>--fail-on-sla</c>.</summary>
    public const int MigrationFailed = 1;

    /// <summary>The command line is wrong, or the API found the request wrong (400, 404, 422).</summary>
    public const int Usage = 2;

    /// <summary>The API could not be reached, or refused the request (401, 403, 409, 429, 5xx).</summary>
    public const int ApiUnavailable = 3;

    /// <summary>Ctrl-C while following a migration: the migration goes on without us (128 + SIGINT, as shells count).</summary>
    public const int Interrupted = 130;

    /// <summary>A request the API answered with <paramref name="status"/>: the caller's mistake, or a refusal.</summary>
    public static int ForStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity or HttpStatusCode.RequestEntityTooLarge => Usage,
        _ => ApiUnavailable,
    };
}
