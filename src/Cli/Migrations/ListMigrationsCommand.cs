using System.CommandLine;
using Ferry.Cli.Rest;

namespace Ferry.Cli.Migrations;

/// <summary><c>ferry migrations [--guest G] [--state S] [--host H] [--limit N]</c>: <c>GET /api/v1/migrations</c>, newest first.</summary>
internal static class ListMigrationsCommand
{
    public static Command Create(CommonOptions options)
    {
        var guest = new Option<string?>("--guest") { Description = "Only this guest's (name or id)", HelpName = "GUEST" };
        var state = new Option<string?>("--state") { Description = "Only those in this state" };
        state.AcceptOnlyFromAmong([.. MigrationStates.All]);
        var host = new Option<string?>("--host") { Description = "Only those from or to this host (name or id)", HelpName = "HOST" };
        var limit = new Option<int>("--limit") { Description = "At most this many, newest first", DefaultValueFactory = _ => 50, HelpName = "N" };
        limit.Validators.Add(r =>
        {
            if (r.TryGet<int>(out var n) && n < 1)
            {
                r.AddError("--limit must be at least 1");
            }
        });
        var command = new Command("migrations", "List migrations, newest first") { guest, state, host, limit };
        command.Run(options, async (parse, session, ct) =>
        {
            var query = new List<string>();
            foreach (var (name, value) in new[] { ("guest", parse.GetValue(guest)), ("state", parse.GetValue(state)), ("host", parse.GetValue(host)) })
            {
                if (value is not null)
                {
                    query.Add($"{name}={Uri.EscapeDataString(value)}");
                }
            }

            var path = "/api/v1/migrations" + (query.Count == 0 ? "" : "?" + string.Join('&', query));
            var items = await session.Client.ListAsync(path, parse.GetValue(limit), ct).ToListAsync(ct);
            if (session.Json)
            {
                session.Terminal.WriteJson(items);
            }
            else
            {
                session.Terminal.Console.Write(MigrationTables.List(items.Select(MigrationDocument.From)));
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
