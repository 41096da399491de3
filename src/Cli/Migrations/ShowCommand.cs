using System.CommandLine;
using Ferry.Cli.Rest;
using Spectre.Console;

namespace Ferry.Cli.Migrations;

/// <summary><c>ferry show MIGRATION</c>: <c>GET /api/v1/migrations/{id}</c> with its timeline and result.</summary>
internal static class ShowCommand
{
    public static Command Create(CommonOptions options)
    {
        var id = new Argument<Guid>("MIGRATION") { Description = "The migration's id" };
        var command = new Command("show", "Show a migration: its policy, timeline and result") { id };
        command.Run(options, async (parse, session, ct) =>
        {
            var migration = await session.Client.GetAsync($"/api/v1/migrations/{parse.GetValue(id)}", ct);
            if (session.Json)
            {
                session.Terminal.WriteJson(migration);
                return ExitCodes.Success;
            }

            var document = MigrationDocument.From(migration);
            var console = session.Terminal.Console;
            console.Write(MigrationTables.Summary(document));
            console.WriteLine();
            console.Write(MigrationTables.Timeline(document));
            if (document.IsTerminal)
            {
                console.Write(MigrationTables.Result(document));
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
