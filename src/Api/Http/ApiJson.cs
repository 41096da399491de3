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

    /// <summary>Options that write exactly what the HTTP responses write (web defaults plus the above), for JSON made outside a response.</summary>
    public static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        return options;
    }
}
