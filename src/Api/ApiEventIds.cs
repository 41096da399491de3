namespace Ferry.Api;

/// <summary>
/// The API's logging event ids, one per event, by area (YARP's <c>Utilities/EventIds.cs</c>): an operator's
/// filter on an id matches one event only. Every <c>[LoggerMessage]</c> of the API takes its id from here; a
/// new event takes the next free id of its area, and an id once shipped keeps its meaning (dashboards and
/// alerts filter on it). Deploy.Tests' <c>EventIdTests</c> fails on an id used twice or outside this class.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>ids</term><description>area</description></listheader>
/// <item><term>100–199</term><description>persistence: schema and database start-up</description></item>
/// <item><term>200–299</term><description>scheduling: the scheduler and its passes</description></item>
/// <item><term>300–309</term><description>the migrations REST API</description></item>
/// <item><term>310–399</term><description>the event log and its live stream</description></item>
/// <item><term>400–409</term><description>the control-plane service agents report to</description></item>
/// <item><term>410–419</term><description>host liveness</description></item>
/// <item><term>420–499</term><description>dispatching migrations to agents</description></item>
/// <item><term>500–599</term><description>security</description></item>
/// <item><term>600–699</term><description>test hooks</description></item>
/// <item><term>700–709</term><description>subscriptions</description></item>
/// <item><term>710–799</term><description>notification delivery</description></item>
/// </list>
/// </remarks>
internal static class ApiEventIds
{
    // 100–199 persistence: schema and database start-up
    public const int SchemaReady = 100;
    public const int DatabaseNotReady = 101;

    // 200–299 scheduling: the scheduler and its passes
    public const int SchedulerStarted = 200;
    public const int SchedulerDisabled = 201;
    public const int SchedulerPassFailed = 202;
    public const int MigrationScheduled = 203;
    public const int MigrationAtCapacity = 204;
    public const int PlacementFailed = 205;
    public const int MigrationTimedOut = 206;
    public const int DispatcherCrashed = 207;
    public const int MigrationChangedMeanwhile = 208;
    public const int MigrationRunStuck = 209;
    public const int QueuedChangedMeanwhile = 210;

    // 300–309 the migrations REST API
    public const int CreateLostRace = 300;

    // 310–399 the event log and its live stream
    public const int EventsListening = 310;
    public const int EventsListenFailed = 311;
    public const int EventStreamClientGone = 312;
    public const int EventStreamReadFailed = 313;
    public const int EventSequencerPassFailed = 314;

    // 400–409 the control-plane service agents report to
    public const int AgentRegistered = 400;
    public const int ResultReported = 401;
    public const int ReportedGuestNotRunning = 402;
    public const int ReportRefused = 403;
    public const int HeartbeatsNotWritten = 404;

    // 410–419 host liveness
    public const int HostDown = 410;
    public const int HostSweepFailed = 411;

    // 420–499 dispatching migrations to agents
    public const int MigrationEnded = 420;
    public const int ProgressStreamEnded = 421;
    public const int AgentLost = 422;
    public const int TeardownCallFailed = 423;
    public const int MigrationFailed = 424;
    public const int CancelAnswered = 425;
    public const int GuestNotFound = 426;
    public const int LeftoversRemoved = 427;
    public const int LeftoversNotSettled = 428;

    // 500–599 security
    public const int AuthenticationOff = 500;

    // 600–699 test hooks
    public const int QueueHolding = 600;

    // 700–709 subscriptions
    public const int Subscribed = 700;
    public const int CallbackRefused = 701;

    // 710–799 notification delivery
    public const int NotificationPumpFailed = 710;
    public const int NotificationAttemptFailed = 711;
    public const int NotificationDeadLettered = 712;
    public const int NotificationsExpired = 713;
}
