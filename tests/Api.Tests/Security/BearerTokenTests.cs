using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Ferry.Api.Tests.Support;
using Ferry.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ferry.Api.Tests.Security;

/// <summary>OAuth2 client-credentials tokens, checked against the issuer's public key from a file (no issuer to reach in a test).</summary>
public sealed class BearerTokenTests(PostgresServer postgres) : ApiTest(postgres)
{
    private readonly RSA _issuer = RSA.Create(2048);
    private readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"ferry-issuer-{Guid.NewGuid():N}.pem");
    private Dictionary<string, string>? _settings;

    protected override IReadOnlyDictionary<string, string> Settings => _settings ??= Configure();

    private Dictionary<string, string> Configure()
    {
        File.WriteAllText(_keyFile, _issuer.ExportSubjectPublicKeyInfoPem());
        return new Dictionary<string, string>
        {
            ["Ferry:Security:AllowAnonymous"] = "false",
            ["Ferry:Security:Jwt:SigningKeyFile"] = _keyFile,
            ["Ferry:Security:Jwt:Audience"] = "ferry",
        };
    }

    private string Token(string scope, string audience = "ferry", RSA? signer = null) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Subject = new ClaimsIdentity([new Claim("client_id", "mano"), new Claim("scope", scope)]),
        Audience = audience,
        Issuer = "https://issuer.example",
        Expires = DateTime.UtcNow.AddMinutes(5),
        SigningCredentials = new SigningCredentials(new RsaSecurityKey(signer ?? _issuer), SecurityAlgorithms.RsaSha256),
    });

    private Task<HttpResponseMessage> Get(string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task A_token_with_the_read_scope_reads_and_cannot_administer()
    {
        Assert.Equal(HttpStatusCode.OK, (await Get("/api/v1/hosts", Token("openid read"))).StatusCode);

        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/hosts/host-a/drain");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token("read"));
        await Problem(await Client.SendAsync(request, Ct), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_token_for_another_audience_or_from_another_issuer_key_is_401()
    {
        using var stranger = RSA.Create(2048);
        await Problem(await Get("/api/v1/hosts", Token("admin", audience: "someone-else")), HttpStatusCode.Unauthorized);
        await Problem(await Get("/api/v1/hosts", Token("admin", signer: stranger)), HttpStatusCode.Unauthorized);
        await Problem(await Client.GetAsync("/api/v1/hosts", Ct), HttpStatusCode.Unauthorized);
    }

    // xunit disposes an IAsyncLifetime test class through DisposeAsync only.
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _issuer.Dispose();
        File.Delete(_keyFile);
    }
}
