using Ferry.Api.Migrations;
using Ferry.Domain.Migrations;

namespace Ferry.Api.Notifications;

/// <summary>What a state change tells every subscriber, stored once per subscriber in the outbox.</summary>
internal sealed record NotificationEvent(string NotificationStatus, string OperationState, Guid MigrationId, Guid GuestId, string Guest,
    string? VnfInstanceId, string? VnfcInstanceId, string SourceHost, string? TargetHost, DateTimeOffset TimeStamp,
    ResultView? Result, NotificationError? Error)
{
    public const string Start = "START";
    public const string ResultStatus = "RESULT";

    /// <summary>The notification of <paramref name="m"/> having entered <paramref name="state"/> at <paramref name="at"/>; null when that change notifies no one.</summary>
    public static NotificationEvent? Of(Migration m, MigrationState state, MigrationState? previous, DateTimeOffset at, MigrationView view)
    {
        var operation = OperationStates.Of(state);
        string status;
        if (MigrationStateMachine.IsTerminal(state))
        {
            status = ResultStatus;
        }
        else if (operation is OperationStates.Starting or OperationStates.Processing
                 && (previous is not { } p || OperationStates.Of(p) != operation))
        {
            // START when the operation enters STARTING and when it enters PROCESSING, not at every phase within them.
            status = Start;
        }
        else
        {
            return null;
        }

        NotificationError? error = state switch
        {
            MigrationState.Failed => new("Migration failed", StatusCodes.Status500InternalServerError,
                $"{m.FailureReason ?? "The migration failed."} The guest runs on the {(m.GuestOnTarget ? "target" : "source")}."),
            MigrationState.Cancelled => new("Migration cancelled", StatusCodes.Status409Conflict,
                "The migration was cancelled before switch-over; the guest runs on the source."),
            _ => null,
        };
        return new(status, operation, m.Id, m.GuestId, m.GuestName, m.VnfInstanceId, m.VnfcInstanceId, m.SourceHostName, m.TargetHostName,
            at.ToUniversalTime(), status == ResultStatus ? view.Result : null, error);
    }
}

/// <summary>Problem details (RFC 7807, SOL 013 <c>ProblemDetails</c>) of a migration that ended FAILED or ROLLED_BACK.</summary>
/// <param name="Title">What happened.</param>
/// <param name="Status">The HTTP status the problem corresponds to.</param>
/// <param name="Detail">Why, and where the guest runs now.</param>
public sealed record NotificationError(string Title, int Status, string Detail);
