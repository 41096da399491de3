using Ferry.Domain;

namespace Ferry.Api.Http;

/// <summary>A reference to a host or guest by id or by name, as clients may give either.</summary>
internal readonly record struct Identifier(Guid? Id, string? Name)
{
    /// <summary>Parses an id or a name; null with an error when it is neither.</summary>
    public static (Identifier? Value, string? Error) Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return (null, "is required");
        }

        if (Guid.TryParse(text, out var id))
        {
            return (new Identifier(id, null), null);
        }

        return Names.Explain(text) is { } problem ? (null, $"must be an id or a name; a name {problem}") : (new Identifier(null, text), null);
    }

    public override string ToString() => Id?.ToString() ?? Name ?? "";
}
