using System.Net;
using System.Text.Json;

namespace Ferry.Lab;

/// <summary>An API response: its status, its JSON body (if any) and, for a problem, the text a person reads.</summary>
internal sealed record ApiAnswer(HttpStatusCode Status, JsonElement? Body, string RawBody, Uri? Location)
{
    public bool Succeeded => (int)Status is >= 200 and < 300;

    /// <summary>An RFC 7807 problem as one line: title, detail and per-field errors.</summary>
    public string ProblemText
    {
        get
        {
            if (Body is not { ValueKind: JsonValueKind.Object } problem)
            {
                return $"{(int)Status} {Status}: {(RawBody.Length == 0 ? "(no body)" : RawBody.Length > 500 ? RawBody[..500] : RawBody)}";
            }

            var parts = new List<string> { $"{(int)Status}" };
            if (problem.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String)
            {
                parts.Add(title.GetString()!);
            }

            if (problem.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
            {
                parts.Add(detail.GetString()!);
            }

            if (problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                foreach (var error in errors.EnumerateObject())
                {
                    string messages = error.Value.ValueKind == JsonValueKind.Array
                        ? string.Join("; ", error.Value.EnumerateArray().Select(m => m.ToString()))
                        : error.Value.ToString();
                    parts.Add($"{error.Name}: {messages}");
                }
            }

            return string.Join(" — ", parts);
        }
    }
}
