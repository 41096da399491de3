namespace Ferry.Domain.Migrations;

/// <summary>
/// One request to move a guest, from acceptance to its end. Every phase change goes through
/// <see cref="MigrationStateMachine"/> and is recorded on the <see cref="Timeline"/>.
/// </summary>
public sealed class Migration
{
    private readonly List<TimelineEntry> _timeline = [];

    // For materialization from storage: every property is then set from the stored row.
    private Migration()
    {
        GuestName = SourceHostName = "";
        Policy = MigrationPolicy.Default;
    }

    private Migration(Guid id, Guid guestId, string guestName, Guid sourceHostId, string sourceHostName,
        MigrationPolicy policy, DateTimeOffset createdAt)
    {
        Id = id;
        GuestId = guestId;
        GuestName = guestName;
        SourceHostId = sourceHostId;
        SourceHostName = sourceHostName;
        Policy = policy;
        CreatedAt = createdAt;
        UpdatedAt = createdAt;
    }

    /// <summary>Server-generated identity.</summary>
    public Guid Id { get; private set; }

    /// <summary>The guest being moved.</summary>
    public Guid GuestId { get; private set; }

    /// <summary>The guest's name when the migration was requested; kept for history.</summary>
    public string GuestName { get; private set; }

    /// <summary>The guest's VNF instance id when the migration was requested (for an NFVO to correlate); null when it had none.</summary>
    public string? VnfInstanceId { get; private set; }

    /// <summary>The guest's VNFC instance id when the migration was requested; null when it had none.</summary>
    public string? VnfcInstanceId { get; private set; }

    /// <summary>Where the guest ran when the migration was requested.</summary>
    public Guid SourceHostId { get; private set; }

    /// <summary>Source host name, kept for history.</summary>
    public string SourceHostName { get; private set; }

    /// <summary>Destination host; null until named by the request or chosen by the scheduler.</summary>
    public Guid? TargetHostId { get; private set; }

    /// <summary>Destination host name, kept for history.</summary>
    public string? TargetHostName { get; private set; }

    /// <summary>Where the prepared target receives the migration (<c>address:port</c>); null until it is ready.</summary>
    public string? TargetEndpoint { get; private set; }

    /// <summary>
    /// The secret binding the native transport's page streams to this migration (32 random bytes),
    /// chosen when the target is prepared and kept so that a resumed flow sends the same one. Never shown.
    /// </summary>
    public byte[]? PageStreamToken { get; private set; }

    /// <summary>The port the target's page-transfer engine listens on, beside <see cref="TargetEndpoint"/>; null when none was prepared.</summary>
    public int? PageStreamPort { get; private set; }

    /// <summary>Whether the request named the target (else the scheduler chose it).</summary>
    public bool TargetRequested { get; private set; }

    /// <summary>Current phase.</summary>
    public MigrationState State { get; private set; }

    /// <summary>Limits and objectives.</summary>
    public MigrationPolicy Policy { get; private set; }

    /// <summary>When the request was accepted.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Last change of state or progress.</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>Every phase entered, in order.</summary>
    public IReadOnlyList<TimelineEntry> Timeline => _timeline;

    /// <summary>Measurements; null until the migration completed.</summary>
    public MigrationResult? Result { get; private set; }

    /// <summary>Whether <see cref="Result"/> met the policy; null until completed.</summary>
    public bool? SlaMet { get; private set; }

    /// <summary>Why it failed; null unless <see cref="MigrationState.Failed"/>.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>Why the control plane is stopping the migration (a timeout), so that it ends failed rather than cancelled.</summary>
    public string? AbortReason { get; private set; }

    /// <summary>The latest progress sample while the migration runs; null before its first and once it has ended.</summary>
    public ProgressSample? Progress { get; private set; }

    /// <summary>Whether the guest ended up on the target (always after switch-over).</summary>
    public bool GuestOnTarget { get; private set; }

    /// <summary>Whether the migration has ended.</summary>
    public bool IsTerminal => MigrationStateMachine.IsTerminal(State);

    /// <summary>Accepts a request. The migration starts <see cref="MigrationState.Queued"/>.</summary>
    public static Migration Request(Guid guestId, string guestName, Guid sourceHostId, string sourceHostName,
        (Guid Id, string Name)? target, MigrationPolicy policy, DateTimeOffset at, string? vnfInstanceId = null, string? vnfcInstanceId = null)
    {
        if (target is { } t && t.Id == sourceHostId)
        {
            throw new DomainException("the target host is the guest's current host");
        }

        var migration = new Migration(Guid.CreateVersion7(at), guestId, guestName, sourceHostId, sourceHostName, policy, at)
        {
            TargetHostId = target?.Id,
            TargetHostName = target?.Name,
            TargetRequested = target is not null,
            VnfInstanceId = vnfInstanceId,
            VnfcInstanceId = vnfcInstanceId,
        };
        migration._timeline.Add(new TimelineEntry(MigrationState.Queued, at));
        return migration;
    }

    /// <summary>The scheduler claimed it and fixed the target.</summary>
    public void Schedule(Guid targetHostId, string targetHostName, DateTimeOffset at)
    {
        if (targetHostId == SourceHostId)
        {
            throw new DomainException("the target host is the guest's current host");
        }

        MoveTo(MigrationState.Scheduled, at);
        TargetHostId = targetHostId;
        TargetHostName = targetHostName;
    }

    /// <summary>Moves to the next phase of the flow; illegal moves throw <see cref="DomainException"/>.</summary>
    public void Advance(MigrationState next, DateTimeOffset at, string? note = null)
    {
        if (next is MigrationState.Scheduled or MigrationState.Completed or MigrationState.Failed
            or MigrationState.Cancelling or MigrationState.Cancelled)
        {
            throw new DomainException($"use the dedicated operation to move to {next}");
        }

        if (next == MigrationState.PreparingTarget && TargetHostId is null)
        {
            throw new DomainException("no target host");
        }

        MoveTo(next, at, note);
        if (next == MigrationState.SwitchingOver)
        {
            // From the pause on, the source is never resumed: whatever happens, the guest is the target's.
            GuestOnTarget = true;
        }
    }

    /// <summary>The token for the target's page streams: made once, the same on every later call.</summary>
    public byte[] EnsurePageStreamToken() => PageStreamToken ??= System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    /// <summary>The target agent is ready to receive at <paramref name="endpoint"/> (and its engine at <paramref name="pageStreamPort"/>, when prepared).</summary>
    public void TargetPrepared(string endpoint, DateTimeOffset at, int? pageStreamPort = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        if (pageStreamPort is < 1 or > 65535)
        {
            throw new DomainException("page stream port must be 1..65535");
        }

        Advance(MigrationState.TargetReady, at, endpoint);
        TargetEndpoint = endpoint;
        PageStreamPort = pageStreamPort;
    }

    /// <summary>Records the measurements and completes.</summary>
    public void Complete(MigrationResult result, DateTimeOffset at)
    {
        AddSwitchoverMoments(result);
        MoveTo(MigrationState.Completed, at);
        var operation = (at - CreatedAt).TotalMilliseconds;
        Result = result with { OperationTimeMs = operation };
        SlaMet = Result.MeetsSla(Policy);
        GuestOnTarget = true;
    }

    /// <summary>
    /// Completes a migration past the pause whose result was lost (the source agent forgot it, or its
    /// report never came), because the target's agent says the guest runs there: the guest is the
    /// target's, but nothing was measured, so there is no <see cref="Result"/> and no SLA verdict.
    /// </summary>
    public void CompleteUnmeasured(string note, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(note);
        if (State is not (MigrationState.SwitchingOver or MigrationState.CleaningUp))
        {
            throw new DomainException($"only a migration past the pause completes without its result, not one in {State}");
        }

        if (State == MigrationState.SwitchingOver)
        {
            MoveTo(MigrationState.CleaningUp, at);
        }

        MoveTo(MigrationState.Completed, at, note);
        GuestOnTarget = true;
    }

    /// <summary>
    /// Fails with <paramref name="reason"/>. The guest stays where the phase left it, unless the
    /// source agent, which knows, says where it is: QEMU and the native engine both resume the source
    /// when a switch-over fails before the target took the guest.
    /// </summary>
    public void Fail(string reason, DateTimeOffset at, bool? guestOnTarget = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        reason = ReasonText.Bound(reason);
        MoveTo(MigrationState.Failed, at, reason);
        FailureReason = reason;
        if (guestOnTarget is { } known)
        {
            GuestOnTarget = known;
        }
    }

    /// <summary>
    /// Asks to cancel. Returns what happened: nothing to do once ended, refused after the
    /// guest was paused for switch-over, done at once before any agent was involved, or
    /// <see cref="MigrationState.Cancelling"/> while agents tear the target down.
    /// </summary>
    public CancelOutcome Cancel(DateTimeOffset at, string? note = null)
    {
        if (IsTerminal || State == MigrationState.Cancelling)
        {
            return CancelOutcome.AlreadyEnded;
        }

        if (!MigrationStateMachine.IsBeforeSwitchover(State))
        {
            return CancelOutcome.TooLate;
        }

        var agentsInvolved = MigrationStateMachine.InvolvesAgents(State);
        MoveTo(MigrationState.Cancelling, at, note);
        if (agentsInvolved)
        {
            return CancelOutcome.Cancelling;
        }

        MoveTo(MigrationState.Cancelled, at);
        return CancelOutcome.Cancelled;
    }

    /// <summary>
    /// The control plane stops the migration for <paramref name="reason"/> (a timeout): like a cancel,
    /// the agents tear the target down first, but it ends <see cref="MigrationState.Failed"/>. Returns
    /// false once the guest has been paused for switch-over: then only the agents can finish it.
    /// </summary>
    public bool Abort(string reason, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (IsTerminal || !MigrationStateMachine.IsBeforeSwitchover(State) && State != MigrationState.Cancelling)
        {
            return false;
        }

        AbortReason = ReasonText.Bound(reason);
        if (!MigrationStateMachine.InvolvesAgents(State))
        {
            Fail(reason, at);
        }
        else if (State != MigrationState.Cancelling)
        {
            MoveTo(MigrationState.Cancelling, at, reason);
        }

        return true;
    }

    /// <summary>Agents finished tearing the target down: cancelled, or failed when the control plane aborted it.</summary>
    public void ConfirmCancelled(DateTimeOffset at)
    {
        if (AbortReason is { } reason)
        {
            Fail(reason, at);
            return;
        }

        MoveTo(MigrationState.Cancelled, at);
    }

    /// <summary>Records that progress was seen, for the progress timeout.</summary>
    public void Touch(DateTimeOffset at) => UpdatedAt = at;

    /// <summary>The most passes a migration's timeline records (a migration that does not converge may run hundreds).</summary>
    public const int MaxPassMoments = 64;

    /// <summary>The <see cref="TimelineEntry.Event"/> of the moment a copy pass began; its note is <c>pass N</c>.</summary>
    public const string PassStartedEvent = "passStarted";

    /// <summary>
    /// Keeps <paramref name="sample"/> as the latest progress; ignored once the migration has ended. The first
    /// sample of each pass is also a moment on the timeline (<see cref="PassStartedEvent"/>, at the time the
    /// control plane received it): samples are dropped when a migration ends, and a migration's detail draws its passes.
    /// </summary>
    public void RecordProgress(ProgressSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.MigrationId != Id)
        {
            throw new DomainException("a progress sample of another migration");
        }

        if (IsTerminal)
        {
            return;
        }

        if (Progress?.Pass != sample.Pass && _timeline.Count(e => e.Event == PassStartedEvent) < MaxPassMoments)
        {
            _timeline.Add(new TimelineEntry(State, sample.At,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"pass {sample.Pass}"), PassStartedEvent));
        }

        Progress = sample;
    }

    /// <summary>When the current phase was entered.</summary>
    public DateTimeOffset EnteredCurrentStateAt => _timeline.Last(e => e.Event is null).At;

    /// <summary>When the migration left the queue, if it has.</summary>
    public DateTimeOffset? StartedAt =>
        _timeline.FirstOrDefault(e => e.State == MigrationState.Scheduled)?.At;

    /// <summary>The switch-over's moments as the agents measured them, in time order among the phases.</summary>
    private void AddSwitchoverMoments(MigrationResult result)
    {
        if (result.Switchover is not { } parts)
        {
            return;
        }

        var moments = new List<TimelineEntry>();
        if (parts.PausedAt is { } paused)
        {
            moments.Add(new TimelineEntry(MigrationState.SwitchingOver, paused, "the guest paused at the source", "guestPaused"));
        }

        if (parts.RunningAt is { } running)
        {
            moments.Add(new TimelineEntry(MigrationState.SwitchingOver, running,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the guest runs at the target, {result.DowntimeMs:0.###} ms after its pause"), "targetRunning"));
        }

        if (parts.PortsUpAt is { } up)
        {
            moments.Add(new TimelineEntry(MigrationState.SwitchingOver, up,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"OVS at the target polls the guest's ports, {parts.PortsUpMs:0.###} ms after it ran"), "portsUp"));
        }

        foreach (var moment in moments)
        {
            var index = _timeline.FindLastIndex(e => e.At <= moment.At) + 1;
            _timeline.Insert(Math.Max(1, index), moment);
        }
    }

    private void MoveTo(MigrationState next, DateTimeOffset at, string? note = null)
    {
        if (!MigrationStateMachine.CanMove(State, next))
        {
            throw new DomainException($"a migration cannot move from {State} to {next}");
        }

        State = next;
        UpdatedAt = at;
        _timeline.Add(new TimelineEntry(next, at, ReasonText.BoundOrNull(note)));
        if (IsTerminal)
        {
            // Progress describes a transfer under way; an ended migration has its result instead.
            Progress = null;
        }
    }
}
