using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Ferry.Api.Http;

/// <summary>RFC 7807 problem responses for everything that is not a success.</summary>
internal static class Problems
{
    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"{what} was not found.");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);

    public static ValidationProblem Invalid(string field, string error) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [error] });

    public static ValidationProblem Invalid(IReadOnlyDictionary<string, string> errors) =>
        TypedResults.ValidationProblem(errors.ToDictionary(e => e.Key, e => new[] { e.Value }));

    public static Task Write(HttpContext context, int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);

    /// <summary>
    /// Turns exceptions into problems: bad requests (unreadable JSON, oversized bodies) keep their
    /// status and say what was wrong, with the JSON path as the field; anything else is a 500
    /// without internals.
    /// </summary>
    public static async Task HandleException(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        if (error is BadHttpRequestException bad)
        {
            if (bad.InnerException is JsonException json)
            {
                var field = json.Path?.TrimStart('$', '.') is { Length: > 0 } path ? path : "body";
                await TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { [field] = [Describe(json)] },
                    detail: "The request body is not valid JSON for this operation.").ExecuteAsync(context);
                return;
            }

            var title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Bad request";
            await Write(context, bad.StatusCode, title, bad.Message);
            return;
        }

        await Write(context, StatusCodes.Status500InternalServerError, "Internal error",
            "The request failed on the server; it has been logged.");
    }

    private static string Describe(JsonException json)
    {
        // System.Text.Json messages name CLR types; keep the first sentence, which says what was wrong.
        var message = json.Message;
        var cut = message.IndexOf(". Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
