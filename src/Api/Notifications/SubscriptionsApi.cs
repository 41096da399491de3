using System.Reflection;
using System.Text.Json;
using Ferry.Api.Http;
using Ferry.Api.Migrations;
using Ferry.Api.Persistence;
using Ferry.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.EntityFrameworkCore;

namespace Ferry.Api.Notifications;

/// <summary>
/// <c>/api/v1/subscriptions</c>: SOL 013 §5.9-style subscriptions to migration notifications. A subscription
/// belongs to the API client that made it: another client is answered 404, as if it did not exist.
/// </summary>
internal static partial class SubscriptionsApi
{
    private const int MaxKeyLength = 2400;

    private static readonly JsonSerializerOptions FilterJson = ApiJson.Create();

    public static RouteGroupBuilder MapSubscriptionsApiV1(this IEndpointRouteBuilder app)
    {
        // Subscribing only reads (it is told what it could read): the read scope is enough for all of it.
        var api = app.MapGroup("/api/v1/subscriptions").WithTags("Subscriptions").RequireScopes(Scopes.Read).AddNextPageLinks();
        api.MapPost("/", Create)
            .WithSummary("Subscribe to migration notifications. Ferry first sends GET callbackUri and needs 204 within 5 s; the same callback and filter again is 303 See Other.")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapGet("/", List).WithSummary("List this client's subscriptions, oldest first, with their delivery health.");
        api.MapGet("/{id}", Get).WithSummary("Get a subscription with its delivery health.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{id}", Delete).WithSummary("Delete a subscription; its undelivered notifications go with it.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/redeliver", Redeliver).WithSummary("Retry the subscription's dead-lettered notifications, for another maximum age.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapMethods("/", [HttpMethods.Put, HttpMethods.Patch], (HttpContext http) => NotAllowed(http, "GET, POST"))
            .WithSummary("Not supported (SOL 013: 405).").ExcludeFromDescription();
        api.MapMethods("/{id}", [HttpMethods.Put, HttpMethods.Patch, HttpMethods.Post], (HttpContext http) => NotAllowed(http, "GET, DELETE"))
            .WithSummary("Not supported (SOL 013: 405).").ExcludeFromDescription();
        return api;
    }

    private static ProblemHttpResult NotAllowed(HttpContext http, string allow)
    {
        http.Response.Headers.Allow = allow;
        return TypedResults.Problem(statusCode: StatusCodes.Status405MethodNotAllowed, title: "Method not allowed",
            detail: $"{http.Request.Method} is not supported here; use {allow}.");
    }

    private static async Task<Results<Created<SubscriptionView>, SeeOtherResult, ValidationProblem, ProblemHttpResult>> Create(HttpContext http, FerryDbContext db, SubscriberClient subscribers, SubscriptionSecrets secrets,
        TimeProvider time, ILoggerFactory loggers, CreateSubscriptionRequest request, CancellationToken ct)
    {
        var errors = new Dictionary<string, string>();
        var (filter, authentication, verbosity, callback) = SubscriptionRequestRules.Check(request, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var owner = IdempotencyKey.ClientOf(http.User);
        var filterJson = JsonSerializer.Serialize(filter, FilterJson);
        var uri = callback!.ToString();
        if (filterJson.Length + uri.Length > MaxKeyLength)
        {
            // The callback and filter are the key that finds a duplicate, in a b-tree index whose entries PostgreSQL caps at ~2.7 kB.
            return Problems.Invalid("filter", $"and callbackUri together must be at most {MaxKeyLength} characters as JSON; use fewer or shorter ids");
        }
        if (await Existing(db, owner, uri, filterJson, ct) is { } existing)
        {
            return SeeOther(existing);
        }

        var test = await subscribers.TestAsync(callback, authentication, ct);
        if (!test.Delivered)
        {
            LogCallbackRefused(loggers.CreateLogger("Ferry.Api.Notifications"), owner, test.Error!);
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Callback test failed",
                detail: $"Ferry tested the callback before subscribing and it failed: {test.Error}. The callback must answer GET with 204 No Content within the attempt timeout.");
        }

        var subscription = new Subscription
        {
            Id = Guid.CreateVersion7(), Owner = owner, CallbackUri = uri, FilterJson = filterJson,
            FilterGuests = filter.Guests?.ToArray(), FilterVnfInstanceIds = filter.VnfInstanceIds?.ToArray(),
            FilterNotificationTypes = filter.NotificationTypes?.ToArray(), FilterOperationStates = filter.OperationStates?.ToArray(),
            Verbosity = verbosity, ProtectedAuthentication = secrets.Protect(authentication), CreatedAt = time.GetUtcNow(),
        };
        db.Subscriptions.Add(subscription);
        if (!await db.TrySaveUniqueAsync(ct))
        {
            // A concurrent request made the same subscription: that one is it.
            return await Existing(db, owner, uri, filterJson, ct) is { } winner ? SeeOther(winner) : Problems.Conflict("The subscription changed concurrently; retry.");
        }

        LogSubscribed(loggers.CreateLogger("Ferry.Api.Notifications"), subscription.Id, owner);
        return TypedResults.Created($"/api/v1/subscriptions/{subscription.Id}", View(subscription, new DeliveryHealth(0, 0, null, null, null)));
    }

    private static SeeOtherResult SeeOther(Guid id) =>
        // SOL 013 §5.9.2: a duplicate subscription is answered with the existing one's location.
        new SeeOtherResult($"/api/v1/subscriptions/{id}");

    private static Task<Guid?> Existing(FerryDbContext db, string owner, string uri, string filterJson, CancellationToken ct) =>
        db.Subscriptions.AsNoTracking().Where(s => s.Owner == owner && s.CallbackUri == uri && s.FilterJson == filterJson)
            .Select(s => (Guid?)s.Id).FirstOrDefaultAsync(ct);

    private static async Task<Results<Ok<Page<SubscriptionView>>, ValidationProblem>> List(HttpContext http, FerryDbContext db,
        [AsParameters] SubscriptionListQuery query, CancellationToken ct)
    {
        if (query.Check(out var size, out var after) is { } problem)
        {
            return problem;
        }

        var owner = IdempotencyKey.ClientOf(http.User);
        // Version-7 ids grow with creation time: the id is the page key.
        var subscriptions = db.Subscriptions.AsNoTracking().Where(s => s.Owner == owner);
        if (after is { } from)
        {
            subscriptions = subscriptions.Where(s => s.Id > from);
        }

        var rows = await subscriptions.OrderBy(s => s.Id).Take(size + 1).ToListAsync(ct);
        var page = rows.Take(size).ToList();
        var health = await Health(db, page.Select(s => s.Id).ToArray(), ct);
        var next = rows.Count > size ? rows[size - 1].Id.ToString() : null;
        return TypedResults.Ok(new Page<SubscriptionView>(page.Select(s => View(s, health(s))).ToList(), next));
    }

    private static async Task<Results<Ok<SubscriptionView>, ProblemHttpResult>> Get(HttpContext http, FerryDbContext db, string id, CancellationToken ct)
    {
        if (await Find(http, db, id, ct) is not { } s)
        {
            return Problems.NotFound($"Subscription '{id}'");
        }

        var health = await Health(db, [s.Id], ct);
        return TypedResults.Ok(View(s, health(s)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(HttpContext http, FerryDbContext db, SubscriberClient subscribers,
        string id, CancellationToken ct)
    {
        if (await Find(http, db, id, ct) is not { } s)
        {
            return Problems.NotFound($"Subscription '{id}'");
        }

        // Its outbox rows go by the foreign key's cascade; an attempt in flight finishes and finds its row gone.
        await db.Subscriptions.Where(x => x.Id == s.Id).ExecuteDeleteAsync(ct);
        subscribers.Forget(s.Id);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<RedeliveryView>, ProblemHttpResult>> Redeliver(HttpContext http, FerryDbContext db,
        NotificationSignal signal, TimeProvider time, string id, CancellationToken ct)
    {
        if (await Find(http, db, id, ct) is not { } s)
        {
            return Problems.NotFound($"Subscription '{id}'");
        }

        var now = time.GetUtcNow();
        var count = await db.OutboxNotifications.Where(n => n.SubscriptionId == s.Id && n.DeadAt != null)
            .ExecuteUpdateAsync(u => u.SetProperty(n => n.DeadAt, (DateTimeOffset?)null).SetProperty(n => n.WindowStart, now)
                .SetProperty(n => n.NextAttemptAt, now).SetProperty(n => n.Attempts, 0), ct);
        await db.Subscriptions.Where(x => x.Id == s.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.RetryAt, (DateTimeOffset?)null), ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({FerryDbContext.NotificationChannel}, '')", ct);
        signal.Pulse();
        return TypedResults.Accepted($"/api/v1/subscriptions/{s.Id}", new RedeliveryView(count));
    }

    private static async Task<Subscription?> Find(HttpContext http, FerryDbContext db, string id, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var guid))
        {
            return null;
        }

        var owner = IdempotencyKey.ClientOf(http.User);
        return await db.Subscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == guid && s.Owner == owner, ct);
    }

    private static async Task<Func<Subscription, DeliveryHealth>> Health(FerryDbContext db, Guid[] ids, CancellationToken ct)
    {
        var counts = await db.OutboxNotifications.AsNoTracking().Where(n => ids.Contains(n.SubscriptionId))
            .GroupBy(n => n.SubscriptionId)
            .Select(g => new { Id = g.Key, Pending = g.Count(n => n.DeadAt == null), Dead = g.Count(n => n.DeadAt != null) })
            .ToDictionaryAsync(x => x.Id, ct);
        return s => counts.TryGetValue(s.Id, out var c)
            ? new DeliveryHealth(c.Pending, c.Dead, s.LastAttemptAt, s.LastError, s.FailedSince)
            : new DeliveryHealth(0, 0, s.LastAttemptAt, s.LastError, s.FailedSince);
    }

    private static SubscriptionView View(Subscription s, DeliveryHealth health) =>
        new(s.Id, s.CallbackUri, JsonSerializer.Deserialize<SubscriptionFilter>(s.FilterJson, FilterJson)!, s.Verbosity,
            new SubscriptionLinks(new Link($"/api/v1/subscriptions/{s.Id}")), health);

    /// <summary>303 with a Location and no body.</summary>
    internal sealed class SeeOtherResult(string location) : IResult, IEndpointMetadataProvider
    {
        public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
            builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status303SeeOther, typeof(void)));

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }

    [LoggerMessage(EventId = ApiEventIds.Subscribed, Level = LogLevel.Information, Message = "Subscription {Id} created for client {Owner}")]
    private static partial void LogSubscribed(ILogger logger, Guid id, string owner);

    [LoggerMessage(EventId = ApiEventIds.CallbackRefused, Level = LogLevel.Information, Message = "Subscription by client {Owner} refused: its callback test failed ({Reason})")]
    private static partial void LogCallbackRefused(ILogger logger, string owner, string reason);
}
