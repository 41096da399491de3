using System.Globalization;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Security;

/// <summary>
/// Checks <see cref="SecurityOptions"/> on start and says exactly what to fix: a key that cannot
/// work stops the API before it answers a single request, rather than failing every request
/// (a malformed <c>sha256:</c> key used to surface as a 500 on each call).
/// </summary>
internal sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public const int MinimumKeyLength = 16;

    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = options.ApiKeys[i];
            var at = string.Create(CultureInfo.InvariantCulture, $"{SecurityOptions.Section}:ApiKeys:{i}");
            if (string.IsNullOrWhiteSpace(key.Name))
            {
                failures.Add($"{at}:Name is missing: every API key needs a client name (it partitions rate limits and idempotency keys).");
            }
            else if (!names.Add(key.Name))
            {
                failures.Add($"{at}:Name '{key.Name}' is used by another key: client names must be unique.");
            }

            if (ApiKeyHash.Explain(key.Key) is { } keyProblem)
            {
                failures.Add($"{at}:Key {keyProblem}");
            }
            else if (!hashes.Add(Convert.ToHexString(ApiKeyHash.Of(key.Key))))
            {
                failures.Add($"{at}:Key is the same secret as another key's: each client needs its own.");
            }

            if (key.Scopes.Count == 0)
            {
                failures.Add($"{at}:Scopes is empty: give it read, migrate or admin.");
            }

            foreach (var scope in key.Scopes.Where(s => !Scopes.IsKnown(s)))
            {
                failures.Add($"{at}:Scopes has '{scope}', which is not a scope: use read, migrate or admin.");
            }
        }

        var jwt = options.Jwt;
        if (jwt.IsConfigured)
        {
            if (string.IsNullOrWhiteSpace(jwt.Audience))
            {
                failures.Add($"{SecurityOptions.Section}:Jwt:Audience is missing: tokens must be issued for this API.");
            }

            // Authority may go with a key source (it then names the issuer, as before JwksUrl and JwksFile existed); the key sources exclude each other.
            var keySources = new[] { jwt.SigningKeyFile, jwt.JwksUrl, jwt.JwksFile }.Count(v => !string.IsNullOrWhiteSpace(v));
            if (keySources == 0 && string.IsNullOrWhiteSpace(jwt.Authority))
            {
                failures.Add($"{SecurityOptions.Section}:Jwt needs where the signing keys come from: an Authority (OpenID discovery), a JwksUrl, a JwksFile or a SigningKeyFile (PEM).");
            }
            else if (keySources > 1)
            {
                failures.Add($"{SecurityOptions.Section}:Jwt names {keySources} sources of signing keys (JwksUrl, JwksFile, SigningKeyFile); name one.");
            }

            if (jwt.JwksUrl is { Length: > 0 } jwks
                && (!Uri.TryCreate(jwks, UriKind.Absolute, out var jwksUri) || !(jwksUri.Scheme == Uri.UriSchemeHttps || (jwksUri.Scheme == Uri.UriSchemeHttp && jwksUri.IsLoopback))))
            {
                failures.Add($"{SecurityOptions.Section}:Jwt:JwksUrl must be an https URL (http only on loopback); got '{jwks}'.");
            }

            if (jwt.JwksFile is { Length: > 0 } jwksFile && JwksKeys.ExplainFile(jwksFile) is { } jwksProblem)
            {
                failures.Add($"{SecurityOptions.Section}:Jwt:JwksFile {jwksProblem}");
            }

            if (string.IsNullOrWhiteSpace(jwt.ScopeClaim))
            {
                failures.Add($"{SecurityOptions.Section}:Jwt:ScopeClaim is empty: name the claim that holds Ferry's scopes (default 'scope').");
            }

            if (jwt.Authority is { Length: > 0 } authority
                && (!Uri.TryCreate(authority, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{SecurityOptions.Section}:Jwt:Authority must be an https URL; got '{authority}'.");
            }

            if (jwt.SigningKeyFile is { Length: > 0 } file && JwtSigningKey.Explain(file) is { } keyFileProblem)
            {
                failures.Add($"{SecurityOptions.Section}:Jwt:SigningKeyFile {keyFileProblem}");
            }
        }

        if (!options.Enabled && !options.AllowAnonymous)
        {
            failures.Add("No REST authentication is configured: set API keys (Ferry__Security__ApiKeys__0__Name, __Key, __Scopes__0) "
                + "or a JWT issuer (Ferry__Security__Jwt__Authority or __SigningKeyFile, and __Audience); "
                + "to run the API open to anyone who can reach it, set Ferry__Security__AllowAnonymous=true explicitly.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
