namespace Ferry.Transfer.Workload.Profiles;

/// <summary>Writes nothing after start-up: an idle guest.</summary>
internal sealed class IdleProfile : IWorkloadProfile
{
    public void Initialise()
    {
    }

    public bool Step() => false;
}
