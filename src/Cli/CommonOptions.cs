using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Cli.Progress;

namespace Ferry.Cli;

/// <summary>Options every command takes: where the API is and how to print.</summary>
internal sealed class CommonOptions
{
    public const string ApiVariable = "FERRY_API";

    /// <summary>Where <c>make run</c> serves the API.</summary>
    public const string DefaultApi = "http://127.0.0.1:5080";

    public CommonOptions()
    {
        Output.AcceptOnlyFromAmong(OutputFormat.Table, OutputFormat.Json);
        Feed.AcceptOnlyFromAmong(ProgressFeeds.Auto, ProgressFeeds.Events, ProgressFeeds.Polling);
        Api.Validators.Add(result =>
        {
            if (result.TryGet<string?>(out var text) && text is not null && !IsHttpUrl(text))
            {
                result.AddError($"--api '{text}' is not an http(s) URL");
            }
        });
    }

    public Option<string?> Api { get; } = new("--api")
    {
        Description = $"The Ferry API's base URL [default: ${ApiVariable}, else {DefaultApi}]",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<string> Output { get; } = new("--output", "-o")
    {
        Description = "table (for people; live progress on a terminal) or json (for scripts: the API's JSON, its field names)",
        DefaultValueFactory = _ => OutputFormat.Table,
        Recursive = true,
    };

    public Option<string> Feed { get; } = new("--feed")
    {
        Description = "Where live progress comes from: events (the API's event stream), polling (reads the migration every 250 ms, "
            + "for proxies that hold streams back) or auto (events where the API serves them, else polling)",
        DefaultValueFactory = _ => ProgressFeeds.Auto,
        Recursive = true,
    };

    /// <summary>For commands that follow migrations to their end.</summary>
    public static Option<bool> FailOnSla() => new("--fail-on-sla")
    {
        Description = "Exit 1 also when a migration completed but missed its SLA (downtime or total time over the policy's limit)",
    };

    public static bool IsHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}
