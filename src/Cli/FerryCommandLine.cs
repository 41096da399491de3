using System.CommandLine;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using Ferry.Cli.Guests;
using Ferry.Cli.Hosts;
using Ferry.Cli.Migrations;
using Ferry.Cli.Reports;

namespace Ferry.Cli;

/// <summary><c>ferry</c>'s commands, and how a command line becomes an exit code.</summary>
internal static class FerryCommandLine
{
    public static RootCommand Create()
    {
        var options = new CommonOptions();
        return new RootCommand("""
            ferry: live-migrate NFV guests through Ferry's API.

            The API is --api, else $FERRY_API, else http://127.0.0.1:5080 (make run's). The API key is $FERRY_API_KEY,
            else the file $FERRY_API_KEY_FILE names, else .ferry/api-key in the current directory or the nearest one
            above it (make run writes it there).
            Exit codes: 0 done; 1 a migration failed (or missed its SLA, with --fail-on-sla); 2 usage (or the API found
            the request wrong: 400, 404, 422); 3 the API unreachable or refusing (401, 403, 409, 429, 5xx); 130 Ctrl-C
            while following a migration (it goes on).
            """)
        {
            options.Api,
            options.Output,
            options.Feed,
            MigrateCommand.Create(options),
            CancelCommand.Create(options),
            WatchCommand.Create(options),
            ListMigrationsCommand.Create(options),
            ShowCommand.Create(options),
            HostsCommand.Create(options),
            GuestsCommand.Create(options),
            DrainCommand.Create(options),
            Reports.SlaCommand.Create(options),
        };
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Create().Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync("ferry: " + error.Message);
            }

            await Console.Error.WriteLineAsync("Try 'ferry --help'.");
            return ExitCodes.Usage;
        }

        // Ctrl-C is ours to handle, not System.CommandLine's: it answers 130 at once, racing the command,
        // so "stopped watching; migration X goes on" was lost (seen in Cli.Tests). The first SIGINT or
        // SIGTERM cancels the command, which says where things stand; a second one ends the process.
        using var interrupted = new CancellationTokenSource();
        void Interrupt(PosixSignalContext signal)
        {
            if (!interrupted.IsCancellationRequested)
            {
                signal.Cancel = true;
                interrupted.Cancel();
            }
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, interrupted.Token);
    }
}
