using System.Globalization;
using System.Text.Json;
using Ferry.Api.Http;
using Ferry.Api.Migrations;
using Ferry.Api.Persistence;
using Ferry.Api.Security;
using Ferry.Domain.Migrations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Events;

/// <summary>
/// Server-Sent Events of migrations, read from the event log in PostgreSQL
/// (<see cref="MigrationEvent"/>): <c>id:</c> is the event's position in the log, <c>event:</c> is <c>state</c>,
/// <c>progress</c> or <c>result</c>, <c>data:</c> one line of JSON. <c>Last-Event-ID</c> resumes after
/// that id on any replica. A stream of one migration closes after its result; a client that resumes
/// after the result gets 204, which tells a browser's EventSource to stop reconnecting. The stream of
/// all migrations starts at the present without <c>Last-Event-ID</c>; one migration's starts at its beginning.
/// </summary>
internal static partial class EventsApi
{
    public const string LastEventIdHeader = "Last-Event-ID";

    private const string ContentType = "text/event-stream";

    /// <summary>Events read from the log per query; a stream catching up reads again at once.</summary>
    private const int Batch = 256;

    private static readonly JsonSerializerOptions Json = ApiJson.Create();

    public static IEndpointRouteBuilder MapEventsApiV1(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/events").WithTags("Events").RequireScopes(Scopes.Read)
            .MapGet("/", StreamAll)
            .WithSummary("Stream the events of all migrations (state changes, progress, results) as Server-Sent Events; filters as the migration list, state by the event's state.")
            .Produces(StatusCodes.Status200OK, contentType: ContentType)
            .DisableRequestTimeout();
        app.MapGroup("/api/v1/migrations").WithTags("Migrations").RequireScopes(Scopes.Migrate)
            .MapGet("/{id}/events", StreamOne)
            .WithSummary("Stream a migration's events as Server-Sent Events: its states, progress while it runs, then its result, and close.")
            .Produces(StatusCodes.Status200OK, contentType: ContentType)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .DisableRequestTimeout();
        return app;
    }

    // The stream itself (200, text/event-stream) is written by EventStream, not by a result: the result after it is empty.
    private static async Task<Results<EmptyHttpResult, NoContent, ValidationProblem, ProblemHttpResult>> StreamOne(HttpContext http, FerryDbContext db, string id,
        [FromHeader(Name = LastEventIdHeader)] string? lastEventId, CancellationToken ct)
    {
        var errors = new Dictionary<string, string>();
        if (!Guid.TryParse(id, out var guid))
        {
            errors["id"] = MigrationLookup.NotAnId;
        }

        var after = ParseLastEventId(lastEventId, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        if (await db.Migrations.AsNoTracking().FirstOrDefaultAsync(m => m.Id == guid, ct) is not { } migration)
        {
            return Problems.NotFound($"Migration '{id}'");
        }

        var log = db.MigrationEvents.AsNoTracking().Where(e => e.MigrationId == guid);
        if (migration.IsTerminal)
        {
            if (!await log.AnyAsync(e => e.Kind == MigrationEventKinds.Result, ct))
            {
                // Ended before the event log existed: its result is all there is to tell.
                var view = JsonSerializer.Serialize(MigrationView.From(migration), Json);
                await Stream(http).RunAsync([new MigrationEvent { Position = after, Kind = MigrationEventKinds.Result, State = migration.State, Data = view }], ct);
                return TypedResults.Empty;
            }

            // A result not yet positioned is on its way: the stream waits for it rather than end with 204.
            if (!await log.AnyAsync(e => e.Position == null || e.Position > after, ct))
            {
                return TypedResults.NoContent();
            }
        }

        await Stream(http).RunAsync(after, (from, c) => log.Where(e => e.Position > from).OrderBy(e => e.Position).Take(Batch).ToListAsync(c), endsWithResult: true, ct);
        return TypedResults.Empty;
    }

    private static async Task<Results<EmptyHttpResult, ValidationProblem>> StreamAll(HttpContext http, FerryDbContext db,
        [AsParameters] MigrationEventQuery query, [FromHeader(Name = LastEventIdHeader)] string? lastEventId, CancellationToken ct)
    {
        var errors = new Dictionary<string, string>();
        var filter = query.Parse(errors);
        var after = ParseLastEventId(lastEventId, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        if (string.IsNullOrEmpty(lastEventId))
        {
            // A new watcher wants what happens from now on, not the whole history of the cluster
            // (which grows without bound); Last-Event-ID: 0 asks for everything the log holds.
            after = await db.MigrationEvents.MaxAsync(e => e.Position, ct) ?? 0;
        }

        var log = db.MigrationEvents.AsNoTracking();
        if (filter.NarrowsMigrations)
        {
            var migrations = filter.ApplyExceptState(db.Migrations);
            log = log.Where(e => migrations.Any(m => m.Id == e.MigrationId));
        }

        if (filter.State is { } s)
        {
            // A stream filters what happens: state=failed streams failures as they happen.
            log = log.Where(e => e.State == s);
        }

        await Stream(http).RunAsync(after, (from, c) => log.Where(e => e.Position > from).OrderBy(e => e.Position).Take(Batch).ToListAsync(c), endsWithResult: false, ct);
        return TypedResults.Empty;
    }

    private static long ParseLastEventId(string? value, Dictionary<string, string> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return 0;
        }

        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return id;
        }

        errors[LastEventIdHeader] = "is not an event id this API sent (a non-negative integer)";
        return 0;
    }

    private static EventStream Stream(HttpContext http)
    {
        var services = http.RequestServices;
        return new EventStream(http, services.GetRequiredService<EventSignal>(), services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<IOptions<EventOptions>>().Value, services.GetRequiredService<IHostApplicationLifetime>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger("Ferry.Api.Events"));
    }
}
