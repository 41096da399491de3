using System.Text.Json;

namespace Ferry.Cli.Rest;

/// <summary>How the CLI reads the API's JSON: camelCase names; fields it does not know are skipped, so a newer API still reads.</summary>
internal static class RestJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// <paramref name="json"/> as a <typeparamref name="T"/>; an answer of another shape (another server
    /// on the port, an incompatible API version) is the API's failure, exit 3, not a crash.
    /// </summary>
    public static T To<T>(JsonElement json)
    {
        try
        {
            return json.Deserialize<T>(Options)
                ?? throw new CommandFailure(ExitCodes.ApiUnavailable, $"the API answered null where a {Name<T>()} was expected");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new CommandFailure(ExitCodes.ApiUnavailable, $"the API's answer is not a {Name<T>()} this ferry reads: {e.Message}", e);
        }
    }

    private static string Name<T>() => typeof(T).Name.Replace("Document", "", StringComparison.Ordinal).ToLowerInvariant();
}
