namespace Ferry.Transfer.Workload.Profiles;

/// <summary>Writes nothing after start-up: an idle guest.</summary>
internal sealed class IdleProfile : IWorkloadProfile
{
    public void Initialise()
    {
    }

    public void Step() => Thread.Sleep(1);
}
