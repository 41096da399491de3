namespace Ferry.Api.Http;

/// <summary>Page size rules shared by every list.</summary>
internal static class Paging
{
    public const int DefaultSize = 50;
    public const int MaxSize = 500;

    /// <summary>The page size to use, or an error for the <c>pageSize</c> field.</summary>
    public static (int Size, string? Error) Size(int? requested) => requested switch
    {
        null => (DefaultSize, null),
        < 1 or > MaxSize => (0, $"must be 1..{MaxSize}"),
        { } n => (n, null),
    };
}
