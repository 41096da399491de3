using Ferry.Dashboard.Tests.Support;
using Ferry.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ferry.Dashboard.Tests;

/// <summary>
/// <c>/dashboard</c> in Debian's chromium against the real API (PostgreSQL, event streams, the scheduler
/// run pass by pass) with paced fake agents. Each test saves screenshots to its output folder
/// (bin/CONFIGURATION/net10.0/screenshots/). <c>FERRY_DOCS_SCREENSHOT=1</c> also writes the README's
/// picture, docs/images/dashboard.png (see docs/dashboard.md).
/// </summary>
public sealed class DashboardPageTests(PostgresServer postgres, Chromium chromium) : DashboardTest(postgres, chromium)
{
    private static readonly string[] Phases = ["queued", "scheduled", "preparingTarget", "targetReady", "running", "switchingOver", "cleaningUp", "completed"];

    private static readonly string[] Charts = ["chart-downtime", "chart-total", "chart-pair-downtime", "chart-pair-total"];

    [Fact]
    public async Task Page_loads_without_console_errors_and_reads_nothing_before_a_key()
    {
        var apiRequests = new List<string>();
        Page.Request += (_, r) =>
        {
            if (new Uri(r.Url).AbsolutePath.StartsWith("/api/", StringComparison.Ordinal))
            {
                lock (apiRequests)
                {
                    apiRequests.Add(r.Url);
                }
            }
        };

        var response = await Page.GotoAsync("/dashboard");
        Assert.Equal(200, response!.Status);
        var headers = await response.AllHeadersAsync();
        Assert.Contains("script-src 'self'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", headers["content-security-policy"], StringComparison.Ordinal);
        await Expect(Page.Locator("#key-form")).ToBeVisibleAsync();
        await Expect(Page.Locator("#board")).ToBeHiddenAsync();
        await Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        lock (apiRequests)
        {
            Assert.Empty(apiRequests);
        }

        await Screenshot("key-form", fullPage: false);

        await Page.FillAsync("#key-input", Api.AdminKey);
        await Page.ClickAsync("#key-form button[type=submit]");
        await Expect(Page.Locator("#stream-status")).ToHaveAttributeAsync("data-status", "live");
        await Expect(Page.Locator("#hosts-body tr")).ToHaveCountAsync(3);
        await Expect(Page.Locator("tr[data-host='host-a'] [data-field='guests']")).ToHaveTextAsync("1");
        await Expect(Page.Locator("tr[data-host='host-b'] [data-field='guests']")).ToHaveTextAsync("0");
        await Expect(Page.Locator("tr[data-host='host-c']")).ToContainTextAsync("linux: tcg");
        await Expect(Page.Locator("tr[data-host='host-a']")).ToContainTextAsync("2.1 GiB free of 2.3 GiB");
        await Expect(Page.Locator(".chart canvas")).ToHaveCountAsync(Charts.Length);
        // The key stays in this tab's session storage, nowhere else.
        Assert.Equal(Api.AdminKey, await Page.EvaluateAsync<string>("() => sessionStorage.getItem('ferry.apiKey')"));
        Assert.Equal(0, await Page.EvaluateAsync<int>("() => localStorage.length + document.cookie.length"));
        await Screenshot("loaded");
        Assert.Empty(Problems);
    }

    [Fact]
    public async Task A_migration_made_through_REST_appears_and_reaches_completed_without_a_reload()
    {
        await OpenDashboard();
        await Page.EvaluateAsync("() => { window.ferryTestMarker = 'the same page'; }");

        var id = await PostMigration("vnf-1", "host-b");
        var row = Page.Locator($"tr[data-migration-id='{id}']");
        await Expect(row).ToHaveAttributeAsync("data-state", "queued");

        var run = await StartedOn("host-a", id);
        run.Progress(1, 256L << 20, 768L << 20, 5000, 9400);
        await Expect(row).ToHaveAttributeAsync("data-state", "running");
        await Expect(row.Locator(".progress")).ToHaveAttributeAsync("data-pass", "1");
        run.Progress(2, 1000L << 20, 24L << 20, 1800, 9400);
        await Expect(row.Locator(".progress")).ToHaveAttributeAsync("data-pass", "2");
        await Expect(row).ToContainTextAsync("24.0 MiB left");
        await Expect(Page.Locator("tr[data-host='host-a'] [data-field='active']")).ToHaveTextAsync("1");
        await Expect(Page.Locator("tr[data-host='host-b'] [data-field='active']")).ToHaveTextAsync("1");
        await Screenshot("migration-running");

        run.SwitchOver();
        run.Complete(totalMs: 420, downtimeMs: 4.2, networkDowntimeMs: 6.8);
        await Expect(row).ToHaveAttributeAsync("data-state", "completed");
        await Expect(row.Locator(".sla-met")).ToHaveTextAsync("met");
        await Expect(row.Locator(".progress")).ToHaveCountAsync(0);
        await Expect(Page.Locator("tr[data-host='host-a'] [data-field='active']")).ToHaveTextAsync("0");
        // The guest moved: the hosts are read again once a migration ends.
        await Expect(Page.Locator("tr[data-host='host-b'] [data-field='guests']")).ToHaveTextAsync("1");
        await Expect(Page.Locator("#chart-downtime")).ToHaveAttributeAsync("data-points", "1");
        Assert.Equal("the same page", await Page.EvaluateAsync<string>("() => window.ferryTestMarker"));
        await Screenshot("migration-completed");
        Assert.Empty(Problems);
    }

    [Fact]
    public async Task Charts_draw_every_finished_migration_and_the_SLA_lines()
    {
        var count = await History();
        await OpenDashboard();
        await Expect(Page.Locator("#chart-downtime")).ToHaveAttributeAsync("data-points", count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(Page.Locator("#chart-total")).ToHaveAttributeAsync("data-points", count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // Four pairs: host-a ⇄ host-b and host-c ⇄ host-a.
        await Expect(Page.Locator("#chart-pair-downtime")).ToHaveAttributeAsync("data-points", "4");
        await Expect(Page.Locator("#chart-pair-total")).ToHaveAttributeAsync("data-points", "4");
        await Expect(Page.Locator("#chart-downtime .u-legend")).ToContainTextAsync("hypervisor (QEMU)");
        await Expect(Page.Locator("#chart-downtime .u-legend")).ToContainTextAsync("network (probe)");
        await Expect(Page.Locator("#chart-pair-total .u-legend")).ToContainTextAsync("p99");

        foreach (var (chart, slaMs) in new[] { ("chart-downtime", "10"), ("chart-total", "2000"), ("chart-pair-downtime", "10"), ("chart-pair-total", "2000") })
        {
            var container = Page.Locator($"#{chart}");
            await Expect(container).ToHaveAttributeAsync("data-sla-ms", slaMs);
            // The policy line is drawn: most of the canvas row the chart says it drew it on is its colour, and a row
            // well away from it is not (a chart that skipped the line fails the first, one that paints everything the second).
            var onLine = await SlaColouredFraction(chart, 0);
            var offLine = await SlaColouredFraction(chart, 25);
            Assert.True(onLine > 0.3, $"{chart}: only {onLine:P0} of the SLA line's row is the SLA colour");
            Assert.True(offLine < 0.1, $"{chart}: {offLine:P0} of a row 25 px off the SLA line is the SLA colour");
        }

        // A migration running while the history is on screen: the README's picture shows both.
        var id = await PostMigration("vnf-1", "host-b");
        var run = await StartedOn("host-a", id);
        run.Progress(1, 640L << 20, 384L << 20, 3200, 9400);
        await Expect(Page.Locator($"tr[data-migration-id='{id}'] .progress")).ToHaveAttributeAsync("data-pass", "1");
        var path = await Screenshot("charts");
        if (Environment.GetEnvironmentVariable("FERRY_DOCS_SCREENSHOT") == "1")
        {
            var docs = Path.Combine(Repository.Root, "docs", "images", "dashboard.png");
            Directory.CreateDirectory(Path.GetDirectoryName(docs)!);
            File.Copy(path, docs, overwrite: true);
        }

        run.SwitchOver();
        run.Complete(totalMs: 3100, downtimeMs: 14, networkDowntimeMs: 19);
        await Expect(Page.Locator($"tr[data-migration-id='{id}'] .sla-missed")).ToHaveTextAsync("missed");
        await Expect(Page.Locator("#chart-downtime")).ToHaveAttributeAsync("data-points", (count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(Problems);
    }

    [Fact]
    public async Task Detail_view_shows_the_phases_and_passes_as_a_Gantt()
    {
        var id = await Migrate("vnf-1", "host-a", "host-b", totalMs: 640, downtimeMs: 3.1, networkDowntimeMs: 5.2, passes: 3);
        await OpenDashboard();
        await Page.ClickAsync($"tr[data-migration-id='{id}'] a");
        Assert.EndsWith($"#migration={id}", Page.Url, StringComparison.Ordinal);

        var detail = Page.Locator("#detail");
        await Expect(detail).ToBeVisibleAsync();
        await Expect(detail).ToHaveAttributeAsync("data-state", "completed");
        foreach (var phase in Phases)
        {
            await Expect(detail.Locator($".gantt-row[data-phase='{phase}'] .gantt-bar")).ToHaveCountAsync(1);
        }

        // The passes come from the progress samples the migration's own event stream replays.
        await Expect(detail.Locator(".gantt-row[data-pass]")).ToHaveCountAsync(3);
        foreach (var pass in new[] { "1", "2", "3" })
        {
            await Expect(detail.Locator($".gantt-row[data-pass='{pass}']")).ToContainTextAsync($"pass {pass}");
        }

        await Expect(detail.Locator(".facts")).ToContainTextAsync("640 ms");
        await Expect(detail.Locator(".facts")).ToContainTextAsync("5.20 ms network");
        // Bars are laid out in time order: each phase starts where the one before it ended or later.
        var lefts = new List<double>();
        foreach (var phase in Phases)
        {
            var box = await detail.Locator($".gantt-row[data-phase='{phase}'] .gantt-bar").BoundingBoxAsync();
            lefts.Add(box!.X);
        }

        Assert.Equal(lefts.Order(), lefts);
        await detail.ScrollIntoViewIfNeededAsync();
        await Screenshot("detail");

        await Page.ClickAsync("#detail-close");
        await Expect(detail).ToBeHiddenAsync();
        Assert.Empty(Problems);
    }

    [Fact]
    public async Task A_key_with_only_the_read_scope_sees_the_whole_page()
    {
        var id = await Migrate("vnf-2", "host-c", "host-a", totalMs: 380, downtimeMs: 2.5);
        await OpenDashboard(Api.ReadKey);
        await Expect(Page.Locator($"tr[data-migration-id='{id}']")).ToHaveAttributeAsync("data-state", "completed");
        await Expect(Page.Locator("#hosts-body tr")).ToHaveCountAsync(3);
        await Expect(Page.Locator("#chart-pair-total")).ToHaveAttributeAsync("data-points", "1");
        await Page.ClickAsync($"tr[data-migration-id='{id}'] a");
        await Expect(Page.Locator("#detail .gantt-row[data-phase='completed']")).ToHaveCountAsync(1);
        Assert.Empty(Problems);
    }

    [Fact]
    public async Task An_unknown_key_is_refused_and_asked_for_again()
    {
        await Page.GotoAsync("/dashboard");
        await Page.FillAsync("#key-input", "not-a-key");
        await Page.ClickAsync("#key-form button[type=submit]");
        await Expect(Page.Locator("#key-error")).ToHaveTextAsync("The API refused this key.");
        await Expect(Page.Locator("#board")).ToBeHiddenAsync();
        Assert.Null(await Page.EvaluateAsync<string?>("() => sessionStorage.getItem('ferry.apiKey')"));
    }

    /// <summary>Finished migrations on four host pairs, a few of them over the SLA, some with a network probe; returns how many.</summary>
    private async Task<int> History()
    {
        var random = new Random(14);
        double LogNormal(double median, double spread) => median * Math.Exp(spread * (random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5));
        var count = 0;
        string vnf1 = "host-a", vnf2 = "host-c";
        for (var i = 0; i < 10; i++)
        {
            var slow = i % 7 == 6;
            var to1 = vnf1 == "host-a" ? "host-b" : "host-a";
            await Migrate("vnf-1", vnf1, to1, LogNormal(slow ? 2600 : 420, 0.5), LogNormal(slow ? 14 : 4, 0.6), i % 2 == 0 ? LogNormal(6, 0.5) : null);
            vnf1 = to1;
            var to2 = vnf2 == "host-c" ? "host-a" : "host-c";
            await Migrate("vnf-2", vnf2, to2, LogNormal(900, 0.4), LogNormal(7, 0.5), LogNormal(9, 0.4));
            vnf2 = to2;
            count += 2;
        }

        // Both guests are back where they started (ten moves each): vnf-1 on host-a, vnf-2 on host-c.
        return count;
    }

    /// <summary>The fraction of the SLA line's canvas row (plus <paramref name="offset"/> CSS px) in the SLA colour.</summary>
    private Task<double> SlaColouredFraction(string chart, int offset) => Page.EvaluateAsync<double>("""
        ([id, offset]) => {
          const container = document.getElementById(id);
          const canvas = container.querySelector('canvas');
          const row = Number(container.dataset.slaRow) + offset * devicePixelRatio;
          // Read a copy made for reading: reading the chart's own canvas again and again makes Chromium warn.
          const copy = document.createElement('canvas');
          copy.width = canvas.width;
          copy.height = canvas.height;
          const ctx = copy.getContext('2d', { willReadFrequently: true });
          ctx.drawImage(canvas, 0, 0);
          const pixels = ctx.getImageData(0, row, canvas.width, 1).data;
          let coloured = 0;
          for (let i = 0; i < pixels.length; i += 4) {
            const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
            if (Math.abs(r - 215) < 40 && Math.abs(g - 38) < 50 && Math.abs(b - 61) < 50 && pixels[i + 3] > 128) coloured++;
          }
          return coloured / canvas.width;
        }
        """, new object[] { chart, offset });
}
