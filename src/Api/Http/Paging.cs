using Ferry.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ferry.Api.Http;

/// <summary>Page size rules shared by every list.</summary>
internal static class Paging
{
    public const int DefaultSize = 50;
    public const int MaxSize = 500;

    /// <summary>The error for a <c>pageToken</c> this API did not issue (whichever kind of token the list uses).</summary>
    public const string UnknownToken = "is not a token this API issued";

    /// <summary>The page size to use, or an error for the <c>pageSize</c> field.</summary>
    public static (int Size, string? Error) Size(QueryInt? requested) => requested switch
    {
        { IsInvalid: true } => (0, $"{QueryInt.NotANumber}, 1..{MaxSize}"),
        null or { Value: null } => (DefaultSize, null),
        { Value: < 1 or > MaxSize } => (0, $"must be 1..{MaxSize}"),
        { Value: { } n } => (n, null),
    };

    /// <summary>
    /// The page and state filter of a list ordered by name (hosts, guests), or the problem with the first bad
    /// parameter of <c>pageSize</c>, <c>state</c>, <c>pageToken</c>. The token is the last name served, so
    /// anything that is not a name was not issued here.
    /// </summary>
    public static ValidationProblem? CheckByName<TState>(QueryInt? pageSize, string? state, string? pageToken, out int size, out TState? stateValue)
        where TState : struct, Enum
    {
        stateValue = null;
        (size, var sizeError) = Size(pageSize);
        if (sizeError is not null)
        {
            return Problems.Invalid(nameof(pageSize), sizeError);
        }

        (stateValue, var stateError) = EnumQuery.Parse<TState>(state);
        if (stateError is not null)
        {
            return Problems.Invalid(nameof(state), stateError);
        }

        return pageToken is not null && !Names.IsValid(pageToken) ? Problems.Invalid(nameof(pageToken), UnknownToken) : null;
    }
}
