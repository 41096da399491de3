using Ferry.Api.Persistence;
using Ferry.Domain.Guests;
using Ferry.Domain.Hosts;
using Ferry.Domain.Migrations;

namespace Ferry.Api.Tests.Support;

/// <summary>Writes finished migrations straight into the database, as if they had run, for reports and lists.</summary>
internal static class History
{
    public static Migration Completed(Guest guest, Host source, Host target, DateTimeOffset at, double totalMs, double downtimeMs, double? networkMs = null)
    {
        var m = Started(guest, source, target, at);
        m.Advance(MigrationState.SwitchingOver, at.AddMilliseconds(2));
        m.Advance(MigrationState.CleaningUp, at.AddMilliseconds(3));
        m.Complete(new MigrationResult { Transport = TransportKind.Qemu, TotalTimeMs = totalMs, DowntimeMs = downtimeMs, NetworkDowntimeMs = networkMs }, at.AddMilliseconds(4));
        return m;
    }

    public static Migration Failed(Guest guest, Host source, Host target, DateTimeOffset at)
    {
        var m = Started(guest, source, target, at);
        m.Fail("destination unreachable", at.AddMilliseconds(2));
        return m;
    }

    public static Migration Cancelled(Guest guest, Host source, Host target, DateTimeOffset at)
    {
        var m = Started(guest, source, target, at);
        m.Cancel(at.AddMilliseconds(2));
        m.ConfirmCancelled(at.AddMilliseconds(3));
        return m;
    }

    public static async Task<(Host A, Host B, Host C, Guest Guest)> HostsAndGuest(FerryDbContext db)
    {
        var a = Host.Create("host-a", "10.0.0.1");
        var b = Host.Create("host-b", "10.0.0.2");
        var c = Host.Create("host-c", "10.0.0.3");
        var g = Guest.Define("vnf-1", 1024, 2, a.Id);
        db.AddRange(a, b, c, g);
        await db.SaveChangesAsync();
        return (a, b, c, g);
    }

    public static Migration Started(Guest guest, Host source, Host target, DateTimeOffset at)
    {
        var m = Migration.Request(guest.Id, guest.Name, source.Id, source.Name, (target.Id, target.Name), MigrationPolicy.Default, at);
        m.Schedule(target.Id, target.Name, at);
        m.Advance(MigrationState.PreparingTarget, at);
        m.Advance(MigrationState.TargetReady, at);
        m.Advance(MigrationState.Running, at.AddMilliseconds(1));
        return m;
    }
}
