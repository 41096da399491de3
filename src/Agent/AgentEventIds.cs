namespace Ferry.Agent;

/// <summary>
/// The agent's logging event ids, one per event, by area (YARP's <c>Utilities/EventIds.cs</c>): an operator's
/// filter on an id matches one event only. Every <c>[LoggerMessage]</c> of the agent takes its id from here; a
/// new event takes the next free id of its area, and an id once shipped keeps its meaning (dashboards and
/// alerts filter on it). Deploy.Tests' <c>EventIdTests</c> fails on an id used twice or outside this class.
/// Until 2026-12 OVS used 3400–3412 and 3470–3472, the guest ports 3473–3477 and the gRPC refusal 3460,
/// each also used by another event; they moved to 3800–3822, 3416–3418 and 3602.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>ids</term><description>area</description></listheader>
/// <item><term>3100–3199</term><description>QMP</description></item>
/// <item><term>3200–3299</term><description>QEMU processes: launch, adoption, stop</description></item>
/// <item><term>3300–3399</term><description>the qemu transport (QEMU's own migration) and its TLS</description></item>
/// <item><term>3400–3419</term><description>guests and their ports</description></item>
/// <item><term>3420–3439</term><description>migrations at the source</description></item>
/// <item><term>3440–3449</term><description>migrations at the target</description></item>
/// <item><term>3450–3459</term><description>host inventory</description></item>
/// <item><term>3460–3469</term><description>the native transport: receiver</description></item>
/// <item><term>3470–3479</term><description>the native transport: source</description></item>
/// <item><term>3480–3489</term><description>orphans: what a crash left behind</description></item>
/// <item><term>3490–3499</term><description>the packet probe</description></item>
/// <item><term>3500–3519</term><description>reporting to the API: registration, heartbeats, retries</description></item>
/// <item><term>3520–3539</term><description>progress forwarding</description></item>
/// <item><term>3540–3599</term><description>the result outbox</description></item>
/// <item><term>3600–3699</term><description>the gRPC service: callers and refusals</description></item>
/// <item><term>3700–3799</term><description>test hooks</description></item>
/// <item><term>3800–3899</term><description>OVS-DPDK: daemons, bridge, ports, steering</description></item>
/// </list>
/// </remarks>
internal static class AgentEventIds
{
    // 3100–3199 QMP
    public const int QmpConnected = 3100;
    public const int QmpSending = 3101;
    public const int QmpCommandTimedOut = 3102;
    public const int QmpCommandFailed = 3103;
    public const int QmpEventReceived = 3104;
    public const int QmpUnmatchedAnswer = 3105;
    public const int QmpConnectionFaulted = 3106;

    // 3200–3299 QEMU processes: launch, adoption, stop
    public const int QemuAcceleratorChosen = 3200;
    public const int QemuStarted = 3201;
    public const int QemuAdopted = 3202;
    public const int QemuNotRunningAs = 3203;
    public const int QemuRunningAs = 3204;
    public const int QemuStopped = 3210;
    public const int QemuCleanupFailed = 3211;
    public const int QemuExitedUnexpectedly = 3212;
    public const int QemuReleased = 3213;

    // 3300–3399 the qemu transport (QEMU's own migration) and its TLS
    public const int QemuMigrationIncomingPrepared = 3300;
    public const int QemuMigrationStarting = 3301;
    public const int QemuMigrationCompleted = 3302;
    public const int QemuMigrationCleanedUp = 3303;
    public const int QemuMigrationCleanupFailed = 3304;
    public const int QemuMigrationAborting = 3305;
    public const int QemuMigrationCancelFailed = 3306;
    public const int QemuMigrationTargetTeardownFailed = 3307;
    public const int QemuMigrationSourceUnknown = 3308;
    public const int QemuMigrationSourceNotRunning = 3309;
    public const int QemuMigrationTargetConfirmed = 3310;
    public const int QemuMigrationTargetSilent = 3311;
    public const int QemuMigrationTlsNotDropped = 3312;
    public const int QemuMigrationEarlierUnsettled = 3313;
    public const int QemuTlsCredentialsWritten = 3320;
    public const int QemuTlsCredentialsNotRemoved = 3321;

    // 3400–3419 guests and their ports
    public const int GuestLaunched = 3400;
    public const int GuestIncomingLaunched = 3401;
    public const int GuestStopped = 3402;
    public const int GuestExitedOnItsOwn = 3403;
    public const int GuestStatusUnknown = 3404;
    public const int GuestForwarding = 3405;
    public const int GuestAdopted = 3414;
    public const int GuestSecondCopyLeft = 3415;
    public const int GuestPortRemoved = 3416;
    public const int GuestPortRemoveFailed = 3417;
    public const int GuestPortBackendsUp = 3418;

    // 3420–3439 migrations at the source
    public const int SourceMigrationStarting = 3420;
    public const int SourceMigrationEnded = 3421;
    public const int SourceMigrationCancelRequested = 3422;
    public const int SourceCleanedUp = 3423;
    public const int SourceMigrationCrashed = 3424;
    public const int SourceMigrationOutboxFailed = 3425;
    public const int SourceMigrationProbeFailed = 3426;
    public const int SourceMigrationArrivalUnknown = 3427;

    // 3440–3449 migrations at the target
    public const int TargetPrepared = 3440;
    public const int TargetTornDown = 3441;

    // 3450–3459 host inventory
    public const int InventoryCollected = 3450;
    public const int DirtyTrackerUnavailable = 3451;

    // 3460–3469 the native transport: receiver
    public const int NativeReceived = 3460;
    public const int NativeReceiveFailed = 3461;
    public const int NativeReceiverNotUsed = 3462;
    public const int NativeReceiverStarted = 3463;

    // 3470–3479 the native transport: source
    public const int NativeStarting = 3470;
    public const int NativeCompleted = 3471;
    public const int NativeFailed = 3472;
    public const int NativeSourceNotResumed = 3473;
    public const int NativeTargetTeardownFailed = 3474;
    public const int NativeEngineFailed = 3475;
    public const int NativeTargetUnknown = 3476;
    public const int NativePasses = 3478;

    // 3480–3489 orphans: what a crash left behind
    public const int OrphanKilled = 3480;
    public const int OrphanRunningGuestLeft = 3481;
    public const int OrphanWouldNotDie = 3482;
    public const int OrphanFreed = 3483;
    public const int OrphanStatusUnknown = 3484;
    public const int OrphanNotTheSameProcess = 3485;
    public const int OrphanNoRecord = 3486;
    public const int OrphanNotAdopted = 3487;

    // 3490–3499 the packet probe
    public const int ProbeStarted = 3490;
    public const int ProbeNoStream = 3491;
    public const int ProbeFinished = 3492;
    public const int ProbeTeardownFailed = 3493;
    public const int ProbeFailed = 3494;
    public const int ProbeAnnouncementsLost = 3495;

    // 3500–3519 reporting to the API: registration, heartbeats, retries
    public const int ControlPlaneRetrying = 3500;
    public const int HostRegistered = 3501;
    public const int HeartbeatFailed = 3502;
    public const int HostForgotten = 3503;

    // 3520–3539 progress forwarding
    public const int ProgressDropped = 3520;

    // 3540–3599 the result outbox
    public const int OutboxStored = 3540;
    public const int OutboxDelivered = 3541;
    public const int OutboxResending = 3542;
    public const int OutboxCorrupt = 3543;
    public const int OutboxRefused = 3544;
    public const int OutboxAdopted = 3545;
    public const int OutboxParkingFailed = 3546;
    public const int LegacyOutboxUnreadable = 3547;

    // 3600–3699 the gRPC service: callers and refusals
    public const int CallerUnauthenticated = 3600;
    public const int CallerRefused = 3601;
    public const int CallRefused = 3602;

    // 3700–3799 test hooks
    public const int FaultHolding = 3700;
    public const int FaultReleased = 3701;
    public const int FaultHoldFailed = 3702;

    // 3800–3899 OVS-DPDK: daemons, bridge, ports, steering
    public const int OvsDaemonStarted = 3800;
    public const int OvsDpdkInitialized = 3801;
    public const int OvsBridgeReady = 3802;
    public const int OvsUsingSystemInstance = 3803;
    public const int OvsPortAdded = 3804;
    public const int OvsPortRemoved = 3805;
    public const int OvsDaemonExitedUnexpectedly = 3806;
    public const int OvsDaemonStopped = 3807;
    public const int OvsKillingStaleDaemon = 3808;
    public const int OvsCleanupFailed = 3809;
    public const int OvsStopped = 3810;
    public const int OvsKernelPortAdded = 3811;
    public const int OvsSteered = 3812;
    public const int OvsToolRan = 3813;
    public const int OvsReady = 3820;
    public const int OvsDaemonDied = 3821;
    public const int OvsStartFailed = 3822;
}
