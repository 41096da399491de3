using System.Net;
using System.Net.Http.Headers;
using Ferry.Dashboard.Tests.Support;
using Ferry.Testing;
using Ferry.Testing.Api;

namespace Ferry.Dashboard.Tests;

/// <summary>How the API serves the page and its bundle, over HTTP alone (no browser).</summary>
public sealed class DashboardAssetsTests(PostgresServer postgres) : IAsyncLifetime
{
    private LiveApi _api = null!;
    private HttpClient _anonymous = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _api = DashboardApi.Start(await postgres.CreateFerryDatabaseAsync());
        _anonymous = new HttpClient { BaseAddress = new Uri(_api.Url) };
    }

    public async ValueTask DisposeAsync()
    {
        _anonymous.Dispose();
        await _api.DisposeAsync();
    }

    [Theory]
    [InlineData("/dashboard", "text/html", "dashboard.js")]
    [InlineData("/dashboard/dashboard.js", "text/javascript", "X-Api-Key")]
    [InlineData("/dashboard/dashboard.css", "text/css", ".u-legend")]
    public async Task The_page_and_its_bundle_are_served_without_a_key_under_a_strict_policy(string path, string mediaType, string content)
    {
        using var response = await _anonymous.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(content, await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task An_unchanged_bundle_is_revalidated_with_its_etag()
    {
        using var first = await _anonymous.GetAsync("/dashboard/dashboard.js", Ct);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.True(first.Headers.CacheControl!.NoCache);

        using var again = new HttpRequestMessage(HttpMethod.Get, "/dashboard/dashboard.js");
        again.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etag.Tag));
        using var revalidated = await _anonymous.SendAsync(again, Ct);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
    }

    [Theory]
    [InlineData("/dashboard/index.html")]
    [InlineData("/dashboard/..%2Fappsettings.json")]
    [InlineData("/dashboard/nothing.js")]
    public async Task Nothing_but_the_bundle_is_served_under_the_dashboard(string path)
    {
        using var response = await _anonymous.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_data_behind_the_page_still_needs_a_key()
    {
        using var response = await _anonymous.GetAsync("/api/v1/migrations", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
