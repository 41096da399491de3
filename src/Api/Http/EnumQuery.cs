namespace Ferry.Api.Http;

/// <summary>Enum values in query strings, written as the API writes them (camelCase), any case accepted; numbers refused.</summary>
internal static class EnumQuery
{
    public static (T? Value, string? Error) Parse<T>(string? text)
        where T : struct, Enum
    {
        if (text is null)
        {
            return (null, null);
        }

        if (text.Length > 0 && !char.IsDigit(text[0]) && text[0] != '-' && Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value))
        {
            return (value, null);
        }

        return (null, "must be one of " + string.Join(", ", Enum.GetNames<T>().Select(n => char.ToLowerInvariant(n[0]) + n[1..])));
    }
}
