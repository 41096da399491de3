using Ferry.Api.Tests.Support;
using Ferry.Testing;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Tests.Security;

/// <summary>The API fails closed: without authentication, or with a key that cannot work, it does not start.</summary>
public sealed class StartupSecurityTests(PostgresServer postgres) : IAsyncLifetime
{
    private string _connectionString = "";

    public async ValueTask InitializeAsync() => _connectionString = await postgres.CreateDatabaseAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private string StartFailure(Dictionary<string, string> settings)
    {
        using var factory = new FerryApiFactory(_connectionString, settings: settings);
        var error = Record.Exception(() => factory.Server);
        Assert.NotNull(error);
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is OptionsValidationException validation)
            {
                return validation.Message;
            }
        }

        Assert.Fail($"the API did not start, but not because of its configuration: {error}");
        return "";
    }

    [Fact]
    public void Without_keys_or_a_token_issuer_the_api_refuses_to_start_and_says_how_to_allow_it()
    {
        var message = StartFailure(new() { ["Ferry:Security:AllowAnonymous"] = "false" });

        Assert.Contains("No REST authentication is configured", message);
        Assert.Contains("Ferry__Security__AllowAnonymous=true", message);
    }

    [Fact]
    public void A_malformed_hashed_key_stops_the_start_with_the_key_it_is()
    {
        var message = StartFailure(new()
        {
            ["Ferry:Security:ApiKeys:0:Name"] = "mano",
            ["Ferry:Security:ApiKeys:0:Key"] = "sha256:not-hex",
            ["Ferry:Security:ApiKeys:0:Scopes:0"] = "migrate",
        });

        Assert.Contains("Ferry:Security:ApiKeys:0:Key", message);
        Assert.Contains("64 hex digits", message);
    }

    [Fact]
    public void A_short_key_an_unknown_scope_and_a_duplicate_name_are_each_reported()
    {
        var message = StartFailure(new()
        {
            ["Ferry:Security:ApiKeys:0:Name"] = "mano",
            ["Ferry:Security:ApiKeys:0:Key"] = "short",
            ["Ferry:Security:ApiKeys:0:Scopes:0"] = "root",
            ["Ferry:Security:ApiKeys:1:Name"] = "mano",
            ["Ferry:Security:ApiKeys:1:Key"] = "a-long-enough-key-0123456789",
            ["Ferry:Security:ApiKeys:1:Scopes:0"] = "read",
        });

        Assert.Contains("ApiKeys:0:Key is 5 characters long", message);
        Assert.Contains("'root', which is not a scope", message);
        Assert.Contains("ApiKeys:1:Name 'mano' is used by another key", message);
    }

    [Fact]
    public void A_token_issuer_without_an_audience_or_a_key_stops_the_start()
    {
        var message = StartFailure(new() { ["Ferry:Security:Jwt:SigningKeyFile"] = "/nonexistent/issuer.pem" });

        Assert.Contains("Jwt:Audience is missing", message);
        Assert.Contains("Jwt:SigningKeyFile '/nonexistent/issuer.pem' holds no RSA or EC public key", message);
    }
}
