using System.CommandLine;
using System.Globalization;
using Ferry.Cli.Output;
using Ferry.Cli.Rest;
using Spectre.Console;

namespace Ferry.Cli.Guests;

/// <summary><c>ferry guests [--host H] [--state S]</c>: <c>GET /api/v1/guests</c>.</summary>
internal static class GuestsCommand
{
    public static Command Create(CommonOptions options)
    {
        var host = new Option<string?>("--host") { Description = "Only the guests of this host (name or id)", HelpName = "HOST" };
        var state = new Option<string?>("--state") { Description = "Only guests in this state" };
        state.AcceptOnlyFromAmong("defined", "running", "migrating", "stopped");
        var command = new Command("guests", "List guests: host, state, memory, vCPUs, profile, accelerator, vhost-user ports") { host, state };
        command.Run(options, async (parse, session, ct) =>
        {
            var query = new List<string>();
            if (parse.GetValue(host) is { } h)
            {
                query.Add("host=" + Uri.EscapeDataString(h));
            }

            if (parse.GetValue(state) is { } s)
            {
                query.Add("state=" + s);
            }

            var items = await session.Client.ListAsync("/api/v1/guests" + (query.Count == 0 ? "" : "?" + string.Join('&', query)), int.MaxValue, ct).ToListAsync(ct);
            if (session.Json)
            {
                session.Terminal.WriteJson(items);
                return ExitCodes.Success;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumns("NAME", "HOST", "STATE", "MEMORY", "VCPUS", "PROFILE", "ACCELERATOR", "PORTS");
            foreach (var g in items.Select(RestJson.To<GuestDocument>))
            {
                var memory = Quantities.Mebibytes(g.MemoryMiB) + (g.HugepageSizeKiB is { } page ? $" ({page / 1024} MiB pages)" : "");
                table.AddRow(g.Name, g.Host, g.State, memory, g.Vcpus.ToString(CultureInfo.InvariantCulture), g.Profile, g.Accelerator ?? Quantities.Unknown,
                    g.VhostUserPorts.Count == 0 ? Quantities.Unknown : string.Join(",", g.VhostUserPorts));
            }

            session.Terminal.Console.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }
}
