using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Http;

/// <summary>
/// What a request's path names (a host or guest by id or name, a migration by id), looked up: either
/// <see cref="Found"/>, or the problem that answers the request instead — 400 on the path's field when the
/// text cannot name one (nothing is looked up then), 404 when none has it. Every endpoint that takes such
/// a path answers the same way, with the same words.
/// </summary>
internal readonly record struct Lookup<T>(T? Found, ValidationProblem? Invalid, ProblemHttpResult? Missing)
    where T : class
{
    /// <summary>Looks up a host or guest by id or name; <paramref name="kind"/> names it in the 404 ("Guest 'x' was not found.").</summary>
    public static async Task<Lookup<T>> ByIdOrNameAsync(string text, string field, string kind,
        Func<Identifier, CancellationToken, Task<T?>> find, CancellationToken ct)
    {
        var (id, error) = Identifier.Parse(text);
        if (id is null)
        {
            return new(null, Problems.Invalid(field, error!), null);
        }

        return await find(id.Value, ct) is { } found ? new(found, null, null) : new(null, null, Problems.NotFound($"{kind} '{text}'"));
    }

    /// <summary>Looks up a thing that has only an id; <paramref name="notAnId"/> is the 400's error on <paramref name="field"/>.</summary>
    public static async Task<Lookup<T>> ByIdAsync(string text, string field, string notAnId, string kind,
        Func<Guid, CancellationToken, Task<T?>> find, CancellationToken ct)
    {
        if (!Guid.TryParse(text, out var id))
        {
            return new(null, Problems.Invalid(field, notAnId), null);
        }

        return await find(id, ct) is { } found ? new(found, null, null) : new(null, null, Problems.NotFound($"{kind} '{text}'"));
    }

    /// <summary>Whether it was found; otherwise <paramref name="refusal"/> is the endpoint's answer, as its own result type.</summary>
    public bool TryGet<TSuccess>([NotNullWhen(true)] out T? found, [NotNullWhen(false)] out Results<TSuccess, ProblemHttpResult, ValidationProblem>? refusal)
        where TSuccess : IResult
    {
        found = Found;
        if (found is not null)
        {
            refusal = null;
            return true;
        }

        refusal = Invalid is { } invalid ? invalid : Missing!;
        return false;
    }
}
