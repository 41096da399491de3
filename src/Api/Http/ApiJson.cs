using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ferry.Api.Http;

/// <summary>JSON as the API speaks it: camelCase names and enum values, unknown fields refused.</summary>
internal static class ApiJson
{
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        // A misspelt policy field must not silently fall back to a default.
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
    }
}
