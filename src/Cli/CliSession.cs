using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Cli.Progress;
using Ferry.Cli.Rest;

namespace Ferry.Cli;

/// <summary>What one command runs with: the API client, the terminal, the output format and the progress feeds.</summary>
internal sealed class CliSession : IDisposable
{
    private CliSession(FerryClient client, Terminal terminal, string output, string feed, TimeProvider time)
    {
        Client = client;
        Terminal = terminal;
        Json = output == OutputFormat.Json;
        Time = time;
        Feeds = new ProgressFeeds(new ServerSentProgressFeed(client, time), new PollingProgressFeed(client, time), feed, client.BaseAddress);
    }

    public FerryClient Client { get; }

    public Terminal Terminal { get; }

    /// <summary><c>--output json</c>: one JSON document on stdout (a stream of lines for a watch of every migration), nothing else.</summary>
    public bool Json { get; }

    public TimeProvider Time { get; }

    public ProgressFeeds Feeds { get; }

    /// <summary>The API at <c>--api</c>, else <c>FERRY_API</c>, else make run's; the key as <see cref="CliApiKey.Find"/> finds it.</summary>
    public static CliSession Create(ParseResult parse, CommonOptions options)
    {
        var address = parse.GetValue(options.Api)
            ?? (Environment.GetEnvironmentVariable(CommonOptions.ApiVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : CommonOptions.DefaultApi);
        if (!CommonOptions.IsHttpUrl(address))
        {
            throw new CommandFailure(ExitCodes.Usage, $"{CommonOptions.ApiVariable} '{address}' is not an http(s) URL");
        }

        var key = CliApiKey.Find(Environment.GetEnvironmentVariable, Directory.GetCurrentDirectory());
        var client = new FerryClient(new Uri(address.TrimEnd('/') + "/"), key);
        return new CliSession(client, Terminal.ForProcess(), parse.GetValue(options.Output)!, parse.GetValue(options.Feed)!, TimeProvider.System);
    }

    public void Dispose() => Client.Dispose();
}
