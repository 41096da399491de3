namespace Ferry.Api.Http;

/// <summary>One page of a list.</summary>
/// <param name="Items">The items.</param>
/// <param name="NextPageToken">Pass as <c>pageToken</c> for the next page; null on the last.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken) : IPage;

/// <summary>What every page has, whatever it holds: the token of the next.</summary>
public interface IPage
{
    /// <summary>Pass as <c>pageToken</c> for the next page; null on the last.</summary>
    string? NextPageToken { get; }
}
