namespace Ferry.Api.Migrations;

/// <summary>Replays a response recorded for an idempotency key, byte for byte.</summary>
internal sealed class StoredResponse(int statusCode, string body, string? location) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        if (location is not null)
        {
            httpContext.Response.Headers.Location = location;
        }

        httpContext.Response.ContentType = "application/json; charset=utf-8";
        return httpContext.Response.WriteAsync(body, httpContext.RequestAborted);
    }
}
