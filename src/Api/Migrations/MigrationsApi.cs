using System.Text.Json;
using Ferry.Api.Guests;
using Ferry.Api.Hosts;
using Ferry.Api.Http;
using Ferry.Api.Persistence;
using Ferry.Api.Security;
using Ferry.Api.Scheduling;
using Ferry.Domain;
using Ferry.Domain.Migrations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using CreateResult = Microsoft.AspNetCore.Http.HttpResults.Results<
    Microsoft.AspNetCore.Http.HttpResults.Accepted<Ferry.Api.Migrations.MigrationView>,
    Ferry.Api.Migrations.StoredResponse,
    Microsoft.AspNetCore.Http.HttpResults.ValidationProblem,
    Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>;

namespace Ferry.Api.Migrations;

internal static partial class MigrationsApi
{
    public static RouteGroupBuilder MapMigrationsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/migrations").WithTags("Migrations").RequireScopes(Scopes.Migrate).AddNextPageLinks();
        // Success and 400 come from each handler's result types; a problem's status is its value's, so those are listed here.
        api.MapPost("/", Create)
            .WithSummary("Request a live migration. Honours the Idempotency-Key header.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapGet("/", List).WithSummary("List migrations, newest first, by state, host, guest, VNF instance id and time range; a Link header names the next page.");
        api.MapGet("/{id}", Get).WithSummary("Get a migration with its timeline and result.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/cancel", Cancel).WithSummary("Cancel a migration before switch-over; a no-op once it has ended.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    private static async Task<CreateResult> Create(HttpContext http, FerryDbContext db, TimeProvider time, MigrationScheduler scheduler,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> jsonOptions, IOptions<IdempotencyOptions> idempotency, ILoggerFactory loggers, CreateMigrationRequest request,
        [FromHeader(Name = IdempotencyKey.Header)] string? idempotencyKey, CancellationToken ct)
    {
        var errors = new Dictionary<string, string>();
        var (guestId, guestError) = Identifier.Parse(request.Guest);
        if (guestError is not null)
        {
            errors["guest"] = guestError;
        }

        Identifier? targetId = null;
        if (request.TargetHost is not null)
        {
            (targetId, var targetError) = Identifier.Parse(request.TargetHost);
            if (targetError is not null)
            {
                errors["targetHost"] = targetError;
            }
        }

        var policy = (request.Policy ?? new PolicyInput(null, null, null, null, null, null, null, null, null)).ToPolicy();
        foreach (var (field, error) in policy.Validate())
        {
            errors[$"policy.{field}"] = error;
        }

        if (idempotencyKey is not null && IdempotencyKey.Explain(idempotencyKey) is { } keyError)
        {
            errors[IdempotencyKey.Header] = keyError;
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var json = jsonOptions.Value.SerializerOptions;
        var fingerprint = IdempotencyKey.Fingerprint("POST /api/v1/migrations",
            new { guest = request.Guest, targetHost = request.TargetHost, policy }, json);

        // A key belongs to the client that sent it (two clients may pick the same key) and lives for a while, not forever.
        var scope = new IdempotencyScope(IdempotencyKey.ClientOf(http.User), time.Now() - idempotency.Value.Lifetime);
        if (idempotencyKey is not null)
        {
            await db.IdempotencyRecords.Where(r => r.CreatedAt < scope.NotBefore).ExecuteDeleteAsync(ct);
            if (await Replay(db, scope, idempotencyKey, fingerprint, ct) is { } replay)
            {
                return replay;
            }
        }

        if (await db.FindGuestAsync(guestId!.Value, ct) is not { } guest)
        {
            return Problems.NotFound($"Guest '{request.Guest}'");
        }

        if (MigrationRequestRules.ExplainProbe(guest, policy) is { } probeProblem)
        {
            return Problems.Invalid("policy.probeRatePps", probeProblem);
        }

        var source = await db.Hosts.SingleAsync(h => h.Id == guest.HostId, ct);
        (Guid, string)? target = null;
        if (targetId is { } tid)
        {
            if (await db.FindHostAsync(tid, ct) is not { } targetHost)
            {
                return Problems.NotFound($"Host '{request.TargetHost}'");
            }

            if (MigrationRequestRules.ExplainTarget(guest, targetHost) is { } targetProblem)
            {
                return Problems.Invalid("targetHost", targetProblem);
            }

            target = (targetHost.Id, targetHost.Name);
        }

        if (await db.Migrations.AnyActiveForGuestAsync(guest.Id, ct))
        {
            // The active migration may be the one a concurrent request with this very key just created.
            return idempotencyKey is not null && await Replay(db, scope, idempotencyKey, fingerprint, ct) is { } earlier
                ? earlier
                : Problems.Conflict($"Guest '{guest.Name}' already has an active migration.");
        }

        var now = time.Now();
        var migration = Migration.Request(guest.Id, guest.Name, source.Id, source.Name, target, policy, now,
            guest.VnfInstanceId, guest.VnfcInstanceId);
        guest.BeginMigration();
        db.Migrations.Add(migration);
        var view = MigrationView.From(migration);
        var location = $"/api/v1/migrations/{migration.Id}";
        if (idempotencyKey is not null)
        {
            db.IdempotencyRecords.Add(new IdempotencyRecord
            {
                Client = scope.Client, Key = idempotencyKey, RequestHash = fingerprint, StatusCode = StatusCodes.Status202Accepted,
                ResponseBody = JsonSerializer.Serialize(view, json), Location = location, CreatedAt = now,
            });
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg)
        {
            // Lost a race with a concurrent request: the database's constraints decide who won.
            db.ChangeTracker.Clear();
            // A concurrent request with the same key won (whichever of its rows collided first): answer as it did.
            if (idempotencyKey is not null && await Replay(db, scope, idempotencyKey, fingerprint, ct) is { } winner)
            {
                return winner;
            }

            LogLostRace(loggers.CreateLogger("Ferry.Api.Migrations"), guest.Name, pg.ConstraintName);

            return Problems.Conflict($"Guest '{guest.Name}' already has an active migration.");
        }

        scheduler.Wake();
        return TypedResults.Accepted(location, view);
    }

    private static async Task<CreateResult?> Replay(FerryDbContext db, IdempotencyScope scope, string key, string fingerprint, CancellationToken ct)
    {
        var record = await db.IdempotencyRecords.AsNoTracking()
            .FirstOrDefaultAsync(r => r.Client == scope.Client && r.Key == key && r.CreatedAt >= scope.NotBefore, ct);
        if (record is null)
        {
            return null;
        }

        if (record.RequestHash != fingerprint)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency key reused",
                detail: $"Idempotency-Key '{key}' was used for a different request.");
        }

        return new StoredResponse(record.StatusCode, record.ResponseBody, record.Location);
    }

    private static async Task<Results<Ok<Page<MigrationView>>, ValidationProblem>> List(FerryDbContext db,
        [AsParameters] MigrationListQuery query, CancellationToken ct)
    {
        if (query.Check(out var size, out var after, out var filter) is { } problem)
        {
            return problem;
        }

        var migrations = filter.ApplyExceptState(db.Migrations.AsNoTracking());
        if (filter.State is { } s)
        {
            migrations = migrations.Where(m => m.State == s);
        }

        if (after is { } a)
        {
            migrations = migrations.Where(m => m.CreatedAt < a.CreatedAt || (m.CreatedAt == a.CreatedAt && m.Id < a.Id));
        }

        var rows = await migrations.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Take(size + 1).ToListAsync(ct);
        var next = rows.Count > size ? new PageToken(rows[size - 1].CreatedAt, rows[size - 1].Id).ToString() : null;
        return TypedResults.Ok(new Page<MigrationView>(rows.Take(size).Select(MigrationView.From).ToList(), next));
    }

    private static async Task<Results<Ok<MigrationView>, ProblemHttpResult, ValidationProblem>> Get(FerryDbContext db, string id, CancellationToken ct) =>
        (await db.Migrations.AsNoTracking().LookUpAsync(id, ct)).TryGet<Ok<MigrationView>>(out var m, out var refusal)
            ? TypedResults.Ok(MigrationView.From(m))
            : refusal;

    private static async Task<Results<Accepted<MigrationView>, ProblemHttpResult, ValidationProblem>> Cancel(
        FerryDbContext db, TimeProvider time, MigrationScheduler scheduler, string id, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (!(await db.Migrations.LookUpAsync(id, ct)).TryGet<Accepted<MigrationView>>(out var m, out var refusal))
            {
                return refusal;
            }

            var outcome = m.Cancel(time.Now(), "cancel requested");
            if (outcome == CancelOutcome.TooLate)
            {
                return Problems.Conflict($"Migration '{id}' is {m.State}: the guest has been paused for switch-over and can only finish.");
            }

            if (outcome == CancelOutcome.Cancelled && await db.Guests.FirstOrDefaultAsync(g => g.Id == m.GuestId, ct) is { } guest)
            {
                guest.EndMigration(m.SourceHostId);
            }

            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                // The scheduler moved it meanwhile: decide again on the fresh state.
                db.ChangeTracker.Clear();
                continue;
            }

            if (outcome == CancelOutcome.Cancelling)
            {
                scheduler.RequestCancel(m.Id);
            }

            return TypedResults.Accepted($"/api/v1/migrations/{m.Id}", MigrationView.From(m));
        }
    }

    [LoggerMessage(EventId = ApiEventIds.CreateLostRace, Level = LogLevel.Information, Message = "Migration request for guest {Guest} lost a race on {Constraint}")]
    private static partial void LogLostRace(ILogger logger, string guest, string? constraint);
}
