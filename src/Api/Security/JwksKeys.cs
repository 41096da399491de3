using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Ferry.Api.Security;

/// <summary>
/// An issuer's signing keys as a JSON Web Key Set (RFC 7517), from a file or a URL. For a URL this is JwtBearer's
/// configuration manager: the handler asks it for keys on each token, it answers from a cache (an hour), and a
/// token signed with a key not in the cache makes the handler call <see cref="RequestRefresh"/>, which lets the next
/// request fetch again (at most every 30 s, so a flood of forged kids cannot make the API hammer the issuer).
/// </summary>
internal sealed class JwksKeys(Uri url) : IConfigurationManager<OpenIdConnectConfiguration>, IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan MinRefresh = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly SemaphoreSlim _fetching = new(1, 1);
    private OpenIdConnectConfiguration? _current;
    private DateTime _fetchedAt;
    private bool _refresh;

    /// <summary>Why <paramref name="path"/> holds no usable key set; null when it does.</summary>
    public static string? ExplainFile(string path)
    {
        try
        {
            return ReadFile(path).Count == 0 ? $"'{path}' holds a key set without a signing key." : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Text.Json.JsonException)
        {
            return $"'{path}' holds no JSON Web Key Set: {e.Message}";
        }
    }

    public static IList<SecurityKey> ReadFile(string path) => new JsonWebKeySet(File.ReadAllText(path)).GetSigningKeys();

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        var now = DateTime.UtcNow;
        if (_current is { } current && now - _fetchedAt < Lifetime && !(_refresh && now - _fetchedAt >= MinRefresh))
        {
            return current;
        }

        await _fetching.WaitAsync(cancel);
        try
        {
            now = DateTime.UtcNow;
            if (_current is { } fresh && now - _fetchedAt < Lifetime && !(_refresh && now - _fetchedAt >= MinRefresh))
            {
                return fresh;
            }

            var set = new JsonWebKeySet(await _http.GetStringAsync(url, cancel));
            var configuration = new OpenIdConnectConfiguration { JwksUri = url.ToString() };
            foreach (var key in set.GetSigningKeys())
            {
                configuration.SigningKeys.Add(key);
            }

            (_current, _fetchedAt, _refresh) = (configuration, now, false);
            return configuration;
        }
        finally
        {
            _fetching.Release();
        }
    }

    public void RequestRefresh() => _refresh = true;

    public void Dispose()
    {
        _http.Dispose();
        _fetching.Dispose();
    }
}
