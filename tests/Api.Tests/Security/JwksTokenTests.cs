using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Ferry.Api.Tests.Support;
using Ferry.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ferry.Api.Tests.Security;

/// <summary>Bearer tokens checked against the issuer's JSON Web Key Set, with its issuer and a configured scope claim.</summary>
public abstract class JwksTokenTests(PostgresServer postgres) : ApiTest(postgres)
{
    protected const string Issuer = "https://nfvo.example/auth";

    protected RSA Signer { get; } = RSA.Create(2048);

    protected string Jwks() =>
        $$"""{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"k1","n":"{{Base64UrlEncoder.Encode(Signer.ExportParameters(false).Modulus)}}","e":"{{Base64UrlEncoder.Encode(Signer.ExportParameters(false).Exponent)}}"}]}""";

    protected string Token(string scopes, string issuer = Issuer, string claim = "ferry_scopes", RSA? signer = null) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("client_id", "nfvo"), new Claim(claim, scopes)]),
            Audience = "ferry",
            Issuer = issuer,
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(signer ?? Signer) { KeyId = "k1" }, SecurityAlgorithms.RsaSha256),
        });

    protected Task<HttpResponseMessage> Send(HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Client.SendAsync(request, Ct);
    }

    protected async Task Scopes_come_from_the_configured_claim_and_the_issuer_and_key_are_checked()
    {
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/api/v1/hosts", Token("read"))).StatusCode);
        // "read" in the ordinary scope claim is not the configured one: no scope, so 403.
        await Problem(await Send(HttpMethod.Get, "/api/v1/hosts", Token("read", claim: "scope")), HttpStatusCode.Forbidden);
        await Problem(await Send(HttpMethod.Post, "/api/v1/hosts/host-a/drain", Token("read migrate")), HttpStatusCode.Forbidden);
        await Problem(await Send(HttpMethod.Get, "/api/v1/hosts", Token("admin", issuer: "https://someone.else")), HttpStatusCode.Unauthorized);
        using var stranger = RSA.Create(2048);
        await Problem(await Send(HttpMethod.Get, "/api/v1/hosts", Token("admin", signer: stranger)), HttpStatusCode.Unauthorized);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Signer.Dispose();
    }
}

public sealed class JwksFileTokenTests(PostgresServer postgres) : JwksTokenTests(postgres)
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"ferry-jwks-{Guid.NewGuid():N}.json");
    private Dictionary<string, string>? _settings;

    protected override IReadOnlyDictionary<string, string> Settings => _settings ??= Configure();

    private Dictionary<string, string> Configure()
    {
        File.WriteAllText(_file, Jwks());
        return new()
        {
            ["Ferry:Security:AllowAnonymous"] = "false",
            ["Ferry:Security:Jwt:JwksFile"] = _file,
            ["Ferry:Security:Jwt:Issuer"] = Issuer,
            ["Ferry:Security:Jwt:Audience"] = "ferry",
            ["Ferry:Security:Jwt:ScopeClaim"] = "ferry_scopes",
        };
    }

    [Fact]
    public Task A_key_set_file_validates_tokens() => Scopes_come_from_the_configured_claim_and_the_issuer_and_key_are_checked();

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        File.Delete(_file);
    }
}

public sealed class JwksUrlTokenTests(PostgresServer postgres) : JwksTokenTests(postgres)
{
    private readonly NotificationReceiver _issuer = new();
    private Dictionary<string, string>? _settings;

    protected override IReadOnlyDictionary<string, string> Settings => _settings!;

    public override async ValueTask InitializeAsync()
    {
        _issuer.Answer = r =>
        {
            r.HttpContext.Items["body"] = Jwks();
            return Task.FromResult(StatusCodes.Status200OK);
        };
        await _issuer.StartAsync();
        _settings = new()
        {
            ["Ferry:Security:AllowAnonymous"] = "false",
            ["Ferry:Security:Jwt:JwksUrl"] = _issuer.Url("/jwks.json"),
            ["Ferry:Security:Jwt:Issuer"] = Issuer,
            ["Ferry:Security:Jwt:Audience"] = "ferry",
            ["Ferry:Security:Jwt:ScopeClaim"] = "ferry_scopes",
        };
        await base.InitializeAsync();
    }

    [Fact]
    public async Task A_key_set_url_validates_tokens()
    {
        await Scopes_come_from_the_configured_claim_and_the_issuer_and_key_are_checked();
        Assert.Contains(_issuer.Requests, r => r.Path == "/jwks.json");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _issuer.DisposeAsync();
    }
}
