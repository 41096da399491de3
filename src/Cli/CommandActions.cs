using System.CommandLine;

namespace Ferry.Cli;

/// <summary>Runs a command's body with its session, and turns how it ended into the exit code.</summary>
internal static class CommandActions
{
    public static void Run(this Command command, CommonOptions options, Func<ParseResult, CliSession, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                using var session = CliSession.Create(parse, options);
                return await body(parse, session, ct);
            }
            catch (CommandFailure e)
            {
                await Console.Error.WriteLineAsync("ferry: " + e.Message);
                return e.ExitCode;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("ferry: interrupted");
                return ExitCodes.Interrupted;
            }
        });
}
