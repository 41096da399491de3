using System.CommandLine;
using Ferry.Cli.Rest;

namespace Ferry.Cli.Migrations;

/// <summary><c>ferry migrate GUEST [--to HOST] [policy] [--wait]</c>: <c>POST /api/v1/migrations</c>.</summary>
internal static class MigrateCommand
{
    public static Command Create(CommonOptions options)
    {
        var guest = new Argument<string>("GUEST") { Description = "The guest to move: its name or id" };
        var to = new Option<string?>("--to") { Description = "Target host, name or id [default: the scheduler picks]", HelpName = "HOST" };
        var policy = new PolicyOptions();
        var wait = new Option<bool>("--wait") { Description = "Follow it live until it ends; exit 1 when it fails" };
        var failOnSla = CommonOptions.FailOnSla();
        var key = new Option<string?>("--idempotency-key")
        {
            Description = "Sent as Idempotency-Key: the same key and request within 24 h get the first answer, not a second migration [default: a new one per run]",
            HelpName = "KEY",
        };
        var command = new Command("migrate", "Move a guest to another host, live") { guest, to };
        policy.AddTo(command);
        command.Options.Add(wait);
        command.Options.Add(failOnSla);
        command.Options.Add(key);
        command.Run(options, async (parse, session, ct) =>
        {
            var body = new { guest = parse.GetValue(guest), targetHost = parse.GetValue(to), policy = policy.Read(parse) };
            var migration = await session.Client.PostAsync("/api/v1/migrations", body, parse.GetValue(key) ?? NewIdempotencyKey(), ct);
            var follower = new MigrationFollower(session);
            if (parse.GetValue(wait))
            {
                return follower.Report(await follower.FollowAsync(migration, ct), parse.GetValue(failOnSla));
            }

            if (session.Json)
            {
                session.Terminal.WriteJson(migration);
            }
            else
            {
                var document = MigrationDocument.From(migration);
                session.Terminal.Console.Write(MigrationTables.Summary(document));
                session.Terminal.WriteLine($"follow it with: ferry watch {document.Id}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>One key per run: retries inside the run replay it; another run is another request.</summary>
    public static string NewIdempotencyKey() => "ferry-cli-" + Guid.NewGuid().ToString("N");
}
