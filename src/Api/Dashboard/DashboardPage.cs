using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Dashboard;

/// <summary>
/// <c>/dashboard</c>: the operator's page. The page and its script are served to anyone (they hold no
/// data); every figure on it comes from the REST API with the key the operator types in, so the page
/// reads exactly what that key may read. The Content-Security-Policy allows scripts, styles and
/// connections from this origin only, and no inline script or style.
/// </summary>
internal static class DashboardPage
{
    public const string Path = "/dashboard";

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        var assets = new[]
        {
            ("index.html", "text/html; charset=utf-8"),
            ("dashboard.js", "text/javascript; charset=utf-8"),
            ("dashboard.css", "text/css; charset=utf-8"),
        }.ToDictionary(a => a.Item1, a => DashboardAsset.Load(a.Item1, a.Item2), StringComparer.Ordinal);

        var group = app.MapGroup(Path).ExcludeFromDescription().AllowAnonymous();
        group.MapGet("/", (HttpContext http) => Serve(http, assets["index.html"]));
        group.MapGet("/{file}", (HttpContext http, string file) =>
            assets.TryGetValue(file, out var asset) && file != "index.html" ? Serve(http, asset) : Results.NotFound());
        return app;
    }

    private static Results<FileContentHttpResult, ProblemHttpResult> Serve(HttpContext http, DashboardAsset? asset)
    {
        if (asset is null)
        {
            // Only a build that skipped the DashboardEmbed target gets here; say so rather than serve half a page.
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Dashboard not built",
                detail: "This build of the API has no dashboard bundle: build src/Api with Node.js and npm installed (scripts/install-deps.sh).");
        }

        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // Revalidate every time (a 304 when unchanged): a new API version must not run with an old script.
        headers.CacheControl = "no-cache";
        return TypedResults.Bytes(asset.Content, asset.ContentType, entityTag: asset.ETag);
    }
}
