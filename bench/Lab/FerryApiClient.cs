using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ferry.Lab;

/// <summary>The few REST calls of Ferry's API v1 the lab makes; answers come back as values, an unreachable API as an exception.</summary>
internal sealed class FerryApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _api;

    /// <param name="api">The API's base address.</param>
    /// <param name="apiKey">The API key sent with every request (X-Api-Key); null for an API that runs open.</param>
    public FerryApiClient(Uri api, string? apiKey)
    {
        _api = api;
        _http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromMinutes(5) };
        if (apiKey is not null)
        {
            _http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }
    }

    public Uri Api => _api;

    public Task<ApiAnswer> GetGuestAsync(string guest, CancellationToken ct) => SendAsync(HttpMethod.Get, $"api/v1/guests/{guest}", null, null, ct);

    public Task<ApiAnswer> GetHostAsync(string host, CancellationToken ct) => SendAsync(HttpMethod.Get, $"api/v1/hosts/{host}", null, null, ct);

    public Task<ApiAnswer> DefineGuestAsync(LabCase lab, string host, bool hugepages, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["name"] = lab.Guest,
            ["memoryMiB"] = lab.MemoryMiB,
            ["vcpus"] = lab.Vcpus,
            ["host"] = host,
            ["vhostUserPorts"] = new JsonArray(lab.Ports.Select(p => (JsonNode)p).ToArray()),
            ["profile"] = lab.Profile,
        };
        if (hugepages)
        {
            body["hugepageSizeKiB"] = 2048;
        }

        return SendAsync(HttpMethod.Post, "api/v1/guests", body, null, ct);
    }

    public Task<ApiAnswer> StartGuestAsync(string guest, CancellationToken ct) => SendAsync(HttpMethod.Post, $"api/v1/guests/{guest}/start", null, null, ct);

    public Task<ApiAnswer> StopGuestAsync(string guest, CancellationToken ct) => SendAsync(HttpMethod.Post, $"api/v1/guests/{guest}/stop", null, null, ct);

    public Task<ApiAnswer> DeleteGuestAsync(string guest, CancellationToken ct) => SendAsync(HttpMethod.Delete, $"api/v1/guests/{guest}", null, null, ct);

    /// <summary><c>POST /api/v1/migrations</c> with a fresh <c>Idempotency-Key</c>; <paramref name="probeRatePps"/> null leaves the field out.</summary>
    public Task<ApiAnswer> RequestMigrationAsync(string guest, string targetHost, string transport, int? probeRatePps, CancellationToken ct)
    {
        var policy = new JsonObject { ["transport"] = transport, ["maxDowntimeMs"] = 10 };
        if (probeRatePps is { } rate)
        {
            policy["probeRatePps"] = rate;
        }

        var body = new JsonObject { ["guest"] = guest, ["targetHost"] = targetHost, ["policy"] = policy };
        return SendAsync(HttpMethod.Post, "api/v1/migrations", body, $"ferry-lab-{guest}-{Guid.NewGuid():N}", ct);
    }

    public Task<ApiAnswer> GetMigrationAsync(Guid id, CancellationToken ct) => SendAsync(HttpMethod.Get, $"api/v1/migrations/{id}", null, null, ct);

    public Task<ApiAnswer> CancelMigrationAsync(Guid id, CancellationToken ct) => SendAsync(HttpMethod.Post, $"api/v1/migrations/{id}/cancel", null, null, ct);

    public void Dispose() => _http.Dispose();

    private async Task<ApiAnswer> SendAsync(HttpMethod method, string path, JsonObject? body, string? idempotencyKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new LabAbortedException($"the API at {_api} did not answer {method} /{path}: {e.Message} (is `make run` running?)", e);
        }

        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(ct);
            JsonElement? json = null;
            if (text.Length > 0)
            {
                try
                {
                    using var document = JsonDocument.Parse(text);
                    json = document.RootElement.Clone();
                }
                catch (JsonException)
                {
                    // Not JSON (a proxy's error page, say): the raw text goes into the problem text.
                }
            }

            return new ApiAnswer(response.StatusCode, json, text, response.Headers.Location);
        }
    }
}
