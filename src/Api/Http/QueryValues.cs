using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Ferry.Api.Http;

/// <summary>
/// A whole-number query parameter of a list's <c>[AsParameters]</c> record (<c>pageSize</c>). It binds whatever
/// the client sent, its value when that parses and the text otherwise, so that the record's check names the
/// parameter in a validation problem. Bound as <c>int?</c>, a value that did not parse (<c>pageSize=abc</c>) got
/// a 400 with no body from the endpoint code the RequestDelegateGenerator writes at build time (.NET 10 does not
/// report a failed [AsParameters] member), and a refused request must say what was wrong with it.
/// </summary>
/// <param name="Value">The number, or null when the parameter was absent or is not a whole number.</param>
/// <param name="Text">What the client sent, or null when the parameter was absent.</param>
internal readonly record struct QueryInt(int? Value, string? Text) : IParsable<QueryInt>
{
    /// <summary>The error for a value that was given and is not a whole number.</summary>
    public const string NotANumber = "must be a whole number";

    /// <summary>Whether the client sent something that is not a whole number.</summary>
    public bool IsInvalid => Text is not null && Value is null;

    public static QueryInt Parse(string s, IFormatProvider? provider) => new(Number(s), s);

    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out QueryInt result)
    {
        result = s is null ? default : Parse(s, provider);
        return s is not null;
    }

    private static int? Number(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
}

/// <summary>
/// A date-and-time query parameter of a list's <c>[AsParameters]</c> record (<c>from</c>, <c>to</c>), bound as
/// <see cref="QueryInt"/> is and for the same reason. ISO 8601; a time without an offset is UTC.
/// </summary>
/// <param name="Value">The time, or null when the parameter was absent or is not a date and time.</param>
/// <param name="Text">What the client sent, or null when the parameter was absent.</param>
internal readonly record struct QueryTime(DateTimeOffset? Value, string? Text) : IParsable<QueryTime>
{
    /// <summary>The error for a value that was given and is not a date and time.</summary>
    public const string NotATime = "must be a date and time, ISO 8601 (2026-12-07T12:00:00Z)";

    /// <summary>Whether the client sent something that is not a date and time.</summary>
    public bool IsInvalid => Text is not null && Value is null;

    public static QueryTime Parse(string s, IFormatProvider? provider) => new(Time(s), s);

    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out QueryTime result)
    {
        result = s is null ? default : Parse(s, provider);
        return s is not null;
    }

    /// <summary>The first problem of a <c>from</c>..<c>to</c> range (a value that is not a time, then an inverted range), or null.</summary>
    public static (string Field, string Error)? CheckRange(QueryTime? from, QueryTime? to) =>
        from is { IsInvalid: true } ? ("from", NotATime)
        : to is { IsInvalid: true } ? ("to", NotATime)
        : from?.Value > to?.Value ? ("from", "must not be after 'to'")
        : null;

    private static DateTimeOffset? Time(string s) =>
        DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}
