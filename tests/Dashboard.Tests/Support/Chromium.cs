using Microsoft.Playwright;

namespace Ferry.Dashboard.Tests.Support;

/// <summary>
/// Debian's chromium, driven by Playwright through <see cref="BrowserTypeLaunchOptions.ExecutablePath"/>:
/// the tests never download a browser. <c>scripts/install-deps.sh</c> installs it (<c>make test</c> runs that
/// first); <c>FERRY_CHROMIUM</c> names another Chromium. Without one every test fails saying so.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string DebianPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public static string ExecutablePath => Environment.GetEnvironmentVariable("FERRY_CHROMIUM") is { Length: > 0 } path ? path : DebianPath;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"No Chromium at {ExecutablePath}: the dashboard tests drive Debian's chromium package and never download a browser. " +
                "Install it with scripts/install-deps.sh (make test does), apt-get install chromium, or set FERRY_CHROMIUM to a Chromium binary.");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Root (as the tests run here) gets no sandbox; and /dev/shm of a container may be small.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}
