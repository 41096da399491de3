using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Cli.Rest;
using Spectre.Console;

namespace Ferry.Cli.Hosts;

/// <summary><c>ferry hosts [--state S]</c>: <c>GET /api/v1/hosts</c>, with how many guests each runs.</summary>
internal static class HostsCommand
{
    public static Command Create(CommonOptions options)
    {
        var state = new Option<string?>("--state") { Description = "Only hosts in this state" };
        state.AcceptOnlyFromAmong("ready", "draining", "down");
        var command = new Command("hosts", "List hosts: state, CPU, KVM, free memory and hugepages, guests, last heartbeat") { state };
        command.Run(options, async (parse, session, ct) =>
        {
            var path = "/api/v1/hosts" + (parse.GetValue(state) is { } s ? $"?state={s}" : "");
            var items = await session.Client.ListAsync(path, int.MaxValue, ct).ToListAsync(ct);
            if (session.Json)
            {
                session.Terminal.WriteJson(items);
                return ExitCodes.Success;
            }

            var guests = (await session.Client.ListAsync("/api/v1/guests", int.MaxValue, ct).ToListAsync(ct))
                .Select(RestJson.To<GuestDocument>).ToLookup(g => g.Host, StringComparer.Ordinal);
            var table = new Table().Border(TableBorder.Simple)
                .AddColumns("NAME", "STATE", "ADDRESS", "CPU", "KVM", "FREE MEMORY", "FREE HUGEPAGES", "GUESTS", "QEMU", "HEARTBEAT");
            foreach (var host in items.Select(RestJson.To<HostDocument>))
            {
                var c = host.Capabilities;
                table.AddRow(
                    new Text(host.Name), new Text(host.State, new Style(StateColour(host.State))), new Text(host.MigrationAddress),
                    new Text(c.CpuModel), new Text(c.Kvm ? "yes" : "no"), new Text(Quantities.Mebibytes(c.MemoryFreeMiB)),
                    new Text(c.Hugepages.Count == 0 ? Quantities.Unknown : Quantities.Mebibytes(c.Hugepages.Sum(p => p.FreeMiB))),
                    new Text(guests[host.Name].Count().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    new Text(c.QemuVersion ?? Quantities.Unknown), new Text(Quantities.Time(host.LastHeartbeatAt)));
            }

            session.Terminal.Console.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Color StateColour(string state) => state switch
    {
        "ready" => Color.Green,
        "draining" => Color.Yellow,
        _ => Color.Red,
    };
}
