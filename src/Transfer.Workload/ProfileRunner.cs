using Ferry.Transfer.Workload.Profiles;

namespace Ferry.Transfer.Workload;

/// <summary>
/// Runs a profile on its own thread. Pausing waits until the current step has finished, so
/// once <see cref="Pause"/> returns the workload writes nothing until <see cref="Resume"/>.
/// </summary>
internal sealed class ProfileRunner : IDisposable
{
    private readonly IWorkloadProfile _profile;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _running = new(false);
    private readonly ManualResetEventSlim _parked = new(true);
    private volatile bool _pauseRequested = true;
    private volatile bool _stopping;

    public ProfileRunner(IWorkloadProfile profile)
    {
        _profile = profile;
        _thread = new Thread(Run) { IsBackground = true, Name = "workload" };
        _thread.Start();
    }

    public bool Paused => _pauseRequested;

    public void Resume()
    {
        _pauseRequested = false;
        _parked.Reset();
        _running.Set();
    }

    public void Pause()
    {
        _pauseRequested = true;
        _running.Reset();
        _parked.Wait();
    }

    public void Dispose()
    {
        _stopping = true;
        _pauseRequested = true;
        _running.Set();
        _thread.Join();
        _running.Dispose();
        _parked.Dispose();
    }

    private void Run()
    {
        while (!_stopping)
        {
            if (_pauseRequested)
            {
                _parked.Set();
                _running.Wait();
                continue;
            }

            _profile.Step();
        }

        _parked.Set();
    }
}
