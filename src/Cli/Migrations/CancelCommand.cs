using System.CommandLine;
using Ferry.Cli.Rest;

namespace Ferry.Cli.Migrations;

/// <summary><c>ferry cancel MIGRATION</c>: <c>POST /api/v1/migrations/{id}/cancel</c>; the guest stays on its source.</summary>
internal static class CancelCommand
{
    public static Command Create(CommonOptions options)
    {
        var id = new Argument<Guid>("MIGRATION") { Description = "The migration's id" };
        var command = new Command("cancel", "Cancel a migration before its switch-over (a no-op once it ended)") { id };
        command.Run(options, async (parse, session, ct) =>
        {
            var migration = await session.Client.PostAsync($"/api/v1/migrations/{parse.GetValue(id)}/cancel", null, MigrateCommand.NewIdempotencyKey(), ct);
            if (session.Json)
            {
                session.Terminal.WriteJson(migration);
            }
            else
            {
                session.Terminal.Console.Write(MigrationTables.Summary(MigrationDocument.From(migration)));
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
