using System.Text.Json;

namespace Ferry.Cli.Rest;

/// <summary>How the CLI reads the API's JSON: camelCase names; fields it does not know are skipped, so a newer API still reads.</summary>
internal static class RestJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);

    public static T To<T>(JsonElement json) => json.Deserialize<T>(Options)
        ?? throw new CommandFailure(ExitCodes.ApiUnavailable, $"the API answered null where a {typeof(T).Name} was expected");
}
