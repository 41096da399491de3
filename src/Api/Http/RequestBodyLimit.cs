using Microsoft.AspNetCore.Http.Features;

namespace Ferry.Api.Http;

/// <summary>
/// Refuses bodies over <see cref="MaxBytes"/> with 413 before reading them. Kestrel enforces the
/// same limit on bodies without a Content-Length as they stream in.
/// </summary>
internal sealed class RequestBodyLimit(RequestDelegate next)
{
    public const long MaxBytes = 1024 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBytes)
        {
            return Problems.Write(context, StatusCodes.Status413PayloadTooLarge, "Request body too large",
                $"The body has {context.Request.ContentLength} bytes; at most {MaxBytes} are accepted.");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = MaxBytes;
        }

        return next(context);
    }
}
