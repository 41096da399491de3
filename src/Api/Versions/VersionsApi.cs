using System.Globalization;
using Ferry.Api.Http;

namespace Ferry.Api.Versions;

/// <summary>
/// API versioning as ETSI GS NFV-SOL 013 §9 has it: <c>GET …/api_versions</c> lists the versions; every
/// response under <c>/api/v1</c> names its version in a <c>Version</c> header; a request that asks for
/// another major version in its own <c>Version</c> header is refused with 406, one that names none gets
/// the current version.
/// </summary>
internal static class VersionsApi
{
    public const string Header = "Version";
    public const string Current = "1.0.0";
    public const int CurrentMajor = 1;
    public const string Prefix = "/api/v1";

    private static readonly ApiVersionInformation Information = new(Prefix, [new ApiVersion(Current, IsDeprecated: false)]);

    public static IEndpointRouteBuilder MapVersionsApi(this IEndpointRouteBuilder app)
    {
        // Anyone may ask which versions exist (SOL 013 §9.3.2: the resource needs no authorization beyond reaching the API).
        app.MapGet("/api/api_versions", () => TypedResults.Ok(Information))
            .WithTags("Versions").WithSummary("The API versions served (ETSI SOL 013 ApiVersionInformation).").AllowAnonymous();
        app.MapGet(Prefix + "/api_versions", () => TypedResults.Ok(Information))
            .WithTags("Versions").WithSummary("The versions of major version 1 (ETSI SOL 013 ApiVersionInformation).").AllowAnonymous();
        return app;
    }

    /// <summary>The header on every response under <c>/api/v1</c>, and the 406 for a request that wants another major version.</summary>
    public static IApplicationBuilder UseApiVersionHeader(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (!http.Request.Path.StartsWithSegments(Prefix))
        {
            await next(http);
            return;
        }

        // Set as the response starts: the exception handler clears the headers of a failed request before its 500.
        http.Response.OnStarting(static state =>
        {
            ((HttpResponse)state).Headers[Header] = Current;
            return Task.CompletedTask;
        }, http.Response);
        if (http.Request.Headers[Header].ToString() is { Length: > 0 } asked && Explain(asked) is { } problem)
        {
            await Problems.Write(http, StatusCodes.Status406NotAcceptable, "Version not acceptable", problem);
            return;
        }

        await next(http);
    });

    /// <summary>Why a request's <c>Version</c> header cannot be served; null when its major version is this one.</summary>
    internal static string? Explain(string asked)
    {
        var major = asked.Split('.', 2)[0].Trim();
        return int.TryParse(major, NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m == CurrentMajor
            ? null
            : $"Version '{Truncate(asked)}' was asked for; this API serves {Current} under {Prefix} (see GET /api/api_versions).";
    }

    private static string Truncate(string s) => s.Length <= 32 ? s : s[..32] + "…";
}
