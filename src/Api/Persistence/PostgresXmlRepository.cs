using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Persistence;

/// <summary>
/// Keeps the Data Protection key ring in PostgreSQL, so that every API replica (and a restarted one) can
/// read the subscription secrets any of them encrypted; a key ring on one replica's disk would leave the
/// others unable to authenticate to a subscriber.
/// </summary>
internal sealed class PostgresXmlRepository(IServiceScopeFactory scopes) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        // The key manager calls this synchronously, at most once per key-ring refresh (24 h by default).
        return db.DataProtectionKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).ToList().Select(x => XElement.Parse(x)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FerryDbContext>();
        db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        // FerryDbContext saves asynchronously only (its event log); a key is written once in its life.
        db.SaveChangesAsync().GetAwaiter().GetResult();
    }
}
