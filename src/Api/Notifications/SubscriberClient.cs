using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;
using Ferry.Api.Versions;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Notifications;

/// <summary>How one request to a subscriber ended: delivered (2xx, or 204 for the callback test), or why not.</summary>
internal readonly record struct AttemptOutcome(bool Delivered, string? Error)
{
    public static readonly AttemptOutcome Success = new(true, null);

    public static AttemptOutcome Failure(string error) => new(false, error.Length <= 1000 ? error : error[..1000]);
}

/// <summary>
/// Talks to subscribers: the callback test at subscription and the notification POSTs, each within
/// <see cref="NotificationOptions.AttemptTimeout"/> with the subscription's authentication. OAuth2 tokens are
/// cached per subscription until they expire and fetched again when the subscriber answers 401.
/// Every failure (refused connection, timeout, non-2xx, a token endpoint that says no) is a value, never an exception.
/// </summary>
internal sealed class SubscriberClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly IOptions<NotificationOptions> _options;
    private readonly ConcurrentDictionary<Guid, (string Token, DateTimeOffset Expires)> _tokens = new();

    public SubscriberClient(TimeProvider time, IOptions<NotificationOptions> options)
    {
        _time = time;
        _options = options;
        _http = new HttpClient(new SocketsHttpHandler
        {
            // Subscribers behind a load balancer move: a pooled connection is re-made now and then.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            AllowAutoRedirect = false,
            MaxConnectionsPerServer = 64,
        })
        {
            // The attempt's own deadline (on the injected clock) bounds every request.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>SOL 013 §5.9.5: a GET to the callback, answered 204, before a subscription is created.</summary>
    public Task<AttemptOutcome> TestAsync(Uri callback, SubscriptionAuthentication? authentication, CancellationToken ct) =>
        AttemptAsync(null, authentication, () => new HttpRequestMessage(HttpMethod.Get, callback), expectNoContent: true, ct);

    /// <summary>POSTs one notification.</summary>
    public Task<AttemptOutcome> PostAsync(Guid subscriptionId, string callback, SubscriptionAuthentication? authentication, byte[] body, CancellationToken ct) =>
        AttemptAsync(subscriptionId, authentication, () => new HttpRequestMessage(HttpMethod.Post, callback)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        }, expectNoContent: false, ct);

    /// <summary>Forgets a deleted subscription's token.</summary>
    public void Forget(Guid subscriptionId) => _tokens.TryRemove(subscriptionId, out _);

    private async Task<AttemptOutcome> AttemptAsync(Guid? tokenKey, SubscriptionAuthentication? authentication, Func<HttpRequestMessage> make,
        bool expectNoContent, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(_options.Value.AttemptTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                using var request = make();
                request.Headers.Add(VersionsApi.Header, VersionsApi.Current);
                if (await AuthorizeAsync(request, tokenKey, authentication, fresh: attempt > 0, linked.Token) is { } tokenError)
                {
                    return AttemptOutcome.Failure(tokenError);
                }

                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
                if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0
                    && authentication?.AuthType?[0] == SubscriptionAuthentication.OAuth2ClientCredentials)
                {
                    // The subscriber no longer takes the cached token (revoked, or its keys rotated): fetch a new one, once.
                    continue;
                }

                var ok = expectNoContent ? response.StatusCode == HttpStatusCode.NoContent : response.IsSuccessStatusCode;
                return ok ? AttemptOutcome.Success
                    : AttemptOutcome.Failure($"{(expectNoContent ? "GET" : "POST")} {request.RequestUri} answered {(int)response.StatusCode} {response.ReasonPhrase}{(expectNoContent ? " (204 No Content expected)" : "")}");
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return AttemptOutcome.Failure($"no answer within {_options.Value.AttemptTimeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException e)
        {
            return AttemptOutcome.Failure($"{e.HttpRequestError}: {e.Message}");
        }
    }

    private async Task<string?> AuthorizeAsync(HttpRequestMessage request, Guid? tokenKey, SubscriptionAuthentication? authentication, bool fresh,
        CancellationToken ct)
    {
        if (authentication?.ParamsBasic is { } basic)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{basic.UserName}:{basic.Password}")));
            return null;
        }

        if (authentication?.ParamsOauth2ClientCredentials is not { } oauth)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        if (!fresh && tokenKey is { } key && _tokens.TryGetValue(key, out var cached) && cached.Expires > now)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cached.Token);
            return null;
        }

        var (token, lifetime, error) = await FetchTokenAsync(oauth, ct);
        if (token is null)
        {
            return error;
        }

        if (tokenKey is { } k)
        {
            // Renewed a little before it expires, so that no request carries a token that lapses in flight.
            _tokens[k] = (token, now + lifetime * 0.9);
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return null;
    }

    private async Task<(string? Token, TimeSpan Lifetime, string? Error)> FetchTokenAsync(OAuth2ClientCredentialsParams oauth, CancellationToken ct)
    {
        // RFC 6749 §4.4 with the client authenticated by HTTP Basic (§2.3.1), names and secrets form-encoded first.
        using var request = new HttpRequestMessage(HttpMethod.Post, oauth.TokenEndpoint)
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $"{Uri.EscapeDataString(oauth.ClientId!)}:{Uri.EscapeDataString(oauth.ClientPassword!)}")));
        using var response = await _http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            return (null, default, $"token endpoint {oauth.TokenEndpoint} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        try
        {
            var body = await response.Content.ReadFromJsonAsync<TokenResponse>(ct);
            return body?.AccessToken is { Length: > 0 } token
                ? (token, TimeSpan.FromSeconds(Math.Clamp(body.ExpiresIn ?? 3600, 1, 86_400)), null)
                : (null, default, $"token endpoint {oauth.TokenEndpoint} answered without an access_token");
        }
        catch (System.Text.Json.JsonException e)
        {
            return (null, default, $"token endpoint {oauth.TokenEndpoint} answered with unreadable JSON: {e.Message}");
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>RFC 6749 §5.1.</summary>
    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("expires_in")] long? ExpiresIn);
}
