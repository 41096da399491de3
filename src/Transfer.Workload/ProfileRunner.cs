using Ferry.Transfer.Guest;
using Ferry.Transfer.Workload.Profiles;

namespace Ferry.Transfer.Workload;

/// <summary>
/// Runs a profile on its own thread, steered by the guest's <see cref="GuestControlWord"/>. The
/// worker reads the word between steps: a pause request is acknowledged there, after the step's
/// writes, so once the controller sees Paused the workload writes nothing until resumed. With
/// nothing due it waits Quiescent, where a pause takes effect without waiting for it. An incoming
/// runner waits on the word for its start and only then builds the profile from the RAM it received.
/// </summary>
internal sealed class ProfileRunner : IDisposable
{
    private static readonly TimeSpan PacingWait = TimeSpan.FromMilliseconds(1);

    /// <summary>How long an incoming guest watches for its announced start before sleeping again.</summary>
    private static readonly TimeSpan AnnouncedStartWatch = TimeSpan.FromMilliseconds(500);
    private readonly GuestControlWord _control;
    private readonly Func<IWorkloadProfile> _createProfile;
    private readonly Thread _thread;
    private IWorkloadProfile? _profile;
    private volatile bool _stopping;

    /// <summary>Starts the worker in <paramref name="initial"/>: Running, Paused or Incoming.</summary>
    public ProfileRunner(GuestControlWord control, Func<IWorkloadProfile> createProfile, GuestRunState initial)
    {
        _control = control;
        _createProfile = createProfile;
        if (initial != GuestRunState.Incoming)
        {
            _profile = createProfile();
        }

        _control.Claim(initial);
        _thread = new Thread(Run) { IsBackground = true, Name = "workload" };
        _thread.Start();
    }

    public void Dispose()
    {
        _stopping = true;
        _control.MarkStopped(); // changes the word, so a worker about to sleep on it returns at once
        _thread.Join();
    }

    private void Run()
    {
        while (!_stopping)
        {
            switch (_control.State)
            {
                case GuestRunState.Running:
                    if (!_profile!.Step() && _control.TryEnterQuiescent())
                    {
                        _control.WaitQuiescent(PacingWait);
                    }

                    break;
                case GuestRunState.Quiescent:
                    _control.WaitQuiescent(TimeSpan.Zero);
                    break;
                case GuestRunState.PauseRequested:
                    _control.AcknowledgePause();
                    break;
                case GuestRunState.StartRequested:
                    StartIncoming();
                    break;
                case GuestRunState.Incoming when _control.StartAnnounced:
                    _control.WatchForStart(AnnouncedStartWatch);
                    break;
                case GuestRunState.Stopped:
                    return;
                case var waiting:
                    _control.WaitWhile(waiting, null); // Paused, Incoming, StartRefused: until the controller moves it (or Dispose wakes us)
                    break;
            }
        }
    }

    private void StartIncoming()
    {
        try
        {
            _profile ??= _createProfile();
            _control.AcknowledgeStart();
        }
        catch (InvalidDataException e)
        {
            _control.RefuseStart(e.Message);
        }
    }
}
