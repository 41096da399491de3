namespace Ferry.Domain.Migrations;

/// <summary>
/// Bounds the free text a migration keeps: failure reasons and timeline notes. Agents quote what QEMU
/// said, and a page of it must neither fail the write (the reason columns hold 4000 characters: a longer
/// one made every save of its migration fail, so the migration could never end) nor swell every read.
/// </summary>
public static class ReasonText
{
    /// <summary>The most characters a reason or note keeps, marker included.</summary>
    public const int MaxLength = 4000;

    /// <summary>
    /// <paramref name="text"/> itself when it fits; else its start and a marker saying how long it was,
    /// together <see cref="MaxLength"/> characters (one fewer rather than half a surrogate pair).
    /// </summary>
    public static string Bound(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= MaxLength)
        {
            return text;
        }

        var marker = string.Create(System.Globalization.CultureInfo.InvariantCulture, $" … [truncated: {text.Length} characters in all]");
        var keep = MaxLength - marker.Length;
        if (char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }

        return string.Concat(text.AsSpan(0, keep), marker);
    }

    /// <summary><see cref="Bound"/> for an optional note.</summary>
    public static string? BoundOrNull(string? text) => text is null ? null : Bound(text);
}
