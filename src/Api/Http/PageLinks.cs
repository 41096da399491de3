using Microsoft.AspNetCore.WebUtilities;

namespace Ferry.Api.Http;

/// <summary>
/// The <c>Link: &lt;…&gt;; rel="next"</c> header of a list page (ETSI GS NFV-SOL 013 §5.4.2.1, RFC 8288),
/// beside the body's <c>nextPageToken</c>: the request's own URI with <c>pageToken</c> replaced, so every
/// filter of the request carries over to the next page.
/// </summary>
internal static class PageLinks
{
    /// <summary>Adds the header to every list of the group that answers with a page that has a next one.</summary>
    public static RouteGroupBuilder AddNextPageLinks(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            var result = await next(context);
            // A handler's Results<Ok<Page<T>>, …> wraps the page's result.
            var inner = result is INestedHttpResult nested ? nested.Result : result;
            if (inner is IValueHttpResult { Value: IPage { NextPageToken: { } token } })
            {
                context.HttpContext.Response.Headers.Link = $"<{Next(context.HttpContext.Request, token)}>; rel=\"next\"";
            }

            return result;
        });
        return group;
    }

    private static string Next(HttpRequest request, string token)
    {
        var query = request.Query.Where(q => !string.Equals(q.Key, "pageToken", StringComparison.OrdinalIgnoreCase))
            .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
            .Append(new KeyValuePair<string, string?>("pageToken", token));
        return QueryHelpers.AddQueryString(request.PathBase + request.Path, query);
    }
}
