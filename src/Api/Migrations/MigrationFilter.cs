using Ferry.Api.Http;
using Ferry.Domain.Migrations;

namespace Ferry.Api.Migrations;

/// <summary>
/// What the migration list and the event stream of all migrations filter by: state, host (source or
/// target), guest (id or name), VNF instance id and creation time range. Parsed once, applied to either.
/// </summary>
internal sealed record MigrationFilter(MigrationState? State, Identifier? Host, Identifier? Guest, DateTimeOffset? From, DateTimeOffset? To,
    string? VnfInstanceId = null)
{
    /// <summary>Parses the query parameters; each bad one adds its error to <paramref name="errors"/>.</summary>
    public static MigrationFilter Parse(string? state, string? host, string? guest, QueryTime? from, QueryTime? to,
        Dictionary<string, string> errors, string? vnfInstanceId = null)
    {
        if (Ferry.Domain.Guests.Guest.ExplainCorrelationId(vnfInstanceId) is { } vnfProblem)
        {
            errors["vnfInstanceId"] = vnfProblem;
        }

        var (stateValue, stateError) = EnumQuery.Parse<MigrationState>(state);
        if (stateError is not null)
        {
            errors["state"] = stateError;
        }

        Identifier? hostId = null, guestId = null;
        if (host is not null)
        {
            (hostId, var e) = Identifier.Parse(host);
            if (e is not null)
            {
                errors["host"] = e;
            }
        }

        if (guest is not null)
        {
            (guestId, var e) = Identifier.Parse(guest);
            if (e is not null)
            {
                errors["guest"] = e;
            }
        }

        if (QueryTime.CheckRange(from, to) is var (field, error))
        {
            errors[field] = error;
        }

        return new MigrationFilter(stateValue, hostId, guestId, from?.Value?.ToUniversalTime(), to?.Value?.ToUniversalTime(), vnfInstanceId);
    }

    /// <summary>The migrations that match by host, guest and time range (not by state: its meaning differs between the list and the stream).</summary>
    public IQueryable<Migration> ApplyExceptState(IQueryable<Migration> query)
    {
        if (Host is { Id: { } hid })
        {
            query = query.Where(m => m.SourceHostId == hid || m.TargetHostId == hid);
        }
        else if (Host is { Name: { } hname })
        {
            query = query.Where(m => m.SourceHostName == hname || m.TargetHostName == hname);
        }

        if (Guest is { Id: { } gid })
        {
            query = query.Where(m => m.GuestId == gid);
        }
        else if (Guest is { Name: { } gname })
        {
            query = query.Where(m => m.GuestName == gname);
        }

        if (VnfInstanceId is { } vnf)
        {
            query = query.Where(m => m.VnfInstanceId == vnf);
        }

        if (From is { } f)
        {
            query = query.Where(m => m.CreatedAt >= f);
        }

        if (To is { } t)
        {
            query = query.Where(m => m.CreatedAt < t);
        }

        return query;
    }

    /// <summary>Whether any filter but the state is set.</summary>
    public bool NarrowsMigrations => Host is not null || Guest is not null || From is not null || To is not null || VnfInstanceId is not null;
}
