using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ferry.Cli.Rest;

/// <summary>
/// Ferry's REST API v1 as the CLI calls it: JSON in and out, the API key on every request, every
/// answer but a success turned into an <see cref="CommandFailure"/> with the exit code it means.
/// Reads and migration requests (which carry an <c>Idempotency-Key</c>) are retried after a lost
/// connection or a 502/503/504, so a retry never starts a second migration.
/// </summary>
internal sealed class FerryClient : IDisposable
{
    public const string ApiKeyHeader = "X-Api-Key";
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(750)];

    /// <summary>Bodies as the API reads them: camelCase, absent fields left out (the API fills in defaults).</summary>
    private static readonly JsonSerializerOptions RequestJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;
    private readonly CliApiKey _key;

    public FerryClient(Uri baseAddress, CliApiKey key, HttpMessageHandler? handler = null)
    {
        BaseAddress = baseAddress;
        _key = key;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = baseAddress,
            // Per request instead: an event stream stays open for as long as a migration runs.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ferry-cli", typeof(FerryClient).Assembly.GetName().Version?.ToString(3)));
        if (key.Value is { } value)
        {
            _http.DefaultRequestHeaders.Add(ApiKeyHeader, value);
        }
    }

    public Uri BaseAddress { get; }

    public Task<JsonElement> GetAsync(string pathAndQuery, CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, pathAndQuery), retry: true, ct);

    /// <summary>
    /// A POST with <paramref name="idempotencyKey"/>: the API answers a retry of it with the first
    /// answer (for migrations; the other POSTs are no-ops when repeated), so it may be retried.
    /// </summary>
    public Task<JsonElement> PostAsync(string path, object? body, string idempotencyKey, CancellationToken ct) =>
        SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = body is null ? null : JsonContent.Create(body, body.GetType(), options: RequestJson),
            };
            request.Headers.Add(IdempotencyKeyHeader, idempotencyKey);
            return request;
        }, retry: true, ct);

    /// <summary>Every item of a list, following <c>nextPageToken</c>, at most <paramref name="limit"/>.</summary>
    public async IAsyncEnumerable<JsonElement> ListAsync(string path, int limit, [EnumeratorCancellation] CancellationToken ct)
    {
        var pageSize = Math.Clamp(limit, 1, 500);
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        string? token = null;
        var count = 0;
        do
        {
            var query = $"{path}{separator}pageSize={pageSize}" + (token is null ? "" : $"&pageToken={Uri.EscapeDataString(token)}");
            var page = await GetAsync(query, ct);
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                if (count++ == limit)
                {
                    yield break;
                }

                yield return item;
            }

            token = page.TryGetProperty("nextPageToken", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (token is not null && count < limit);
    }

    /// <summary>
    /// Opens a Server-Sent Events stream and returns the response once its headers arrived, whatever
    /// its status (the caller decides what a 404 means); throws when the API cannot be reached.
    /// </summary>
    public async Task<HttpResponseMessage> OpenEventStreamAsync(string path, string? lastEventId, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var headers = CancellationTokenSource.CreateLinkedTokenSource(ct);
        headers.CancelAfter(RequestTimeout);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw NoAnswer(e);
        }
    }

    /// <summary>The failure an unsuccessful <paramref name="response"/> means, with the API's own explanation.</summary>
    public async Task<CommandFailure> RefusalAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        var problem = ProblemText(text);
        var code = (int)response.StatusCode;
        var message = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized when _key.Value is null =>
                $"the API at {BaseAddress} wants an API key and none was found: set FERRY_API_KEY (or FERRY_API_KEY_FILE), or run where `make run` wrote .ferry/api-key",
            HttpStatusCode.Unauthorized => $"the API at {BaseAddress} refused the API key from {_key.Source} (401)",
            HttpStatusCode.Forbidden => $"the API key from {_key.Source} may not do this (403){problem}",
            _ => $"the API answered {code} {response.ReasonPhrase}{problem}",
        };
        return new CommandFailure(ExitCodes.ForStatus(response.StatusCode), message, status: response.StatusCode);
    }

    public void Dispose() => _http.Dispose();

    private async Task<JsonElement> SendAsync(Func<HttpRequestMessage> create, bool retry, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var again = retry && attempt < Backoff.Length;
            using var request = create();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(RequestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, timeout.Token);
            }
            catch (HttpRequestException e)
            {
                if (!again)
                {
                    throw Unreachable(e);
                }

                await Task.Delay(Backoff[attempt], ct);
                continue;
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw NoAnswer(e);
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    return await ReadJsonAsync(response, ct);
                }

                if (again && response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
                {
                    await Task.Delay(Backoff[attempt], ct);
                    continue;
                }

                throw await RefusalAsync(response, ct);
            }
        }
    }

    private async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (text.Length == 0)
        {
            return default;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new CommandFailure(ExitCodes.ApiUnavailable, $"the server at {BaseAddress} answered {(int)response.StatusCode} without JSON: is it Ferry's API?");
        }
    }

    /// <summary>An RFC 7807 problem as one line per fact: ": title: detail" and "  field: error".</summary>
    private static string ProblemText(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return "";
            }

            var parts = new List<string>();
            foreach (var name in (string[])["title", "detail"])
            {
                if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    parts.Add(value.GetString()!);
                }
            }

            var text = parts.Count == 0 ? "" : ": " + string.Join(": ", parts);
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in errors.EnumerateObject())
                {
                    var messages = field.Value.ValueKind == JsonValueKind.Array
                        ? string.Join("; ", field.Value.EnumerateArray().Select(e => e.ToString()))
                        : field.Value.ToString();
                    text += $"\n  {field.Name}: {messages}";
                }
            }

            return text;
        }
        catch (JsonException)
        {
            return "";
        }
    }

    private CommandFailure Unreachable(HttpRequestException e) =>
        new(ExitCodes.ApiUnavailable, $"cannot reach the Ferry API at {BaseAddress}: {e.Message} (set --api or FERRY_API)", e);

    private CommandFailure NoAnswer(Exception e) =>
        new(ExitCodes.ApiUnavailable, $"the Ferry API at {BaseAddress} did not answer within {RequestTimeout.TotalSeconds:0} s", e);
}
