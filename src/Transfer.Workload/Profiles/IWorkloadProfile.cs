namespace Ferry.Transfer.Workload.Profiles;

/// <summary>A memory behaviour; all of its state lives in the RAM file.</summary>
internal interface IWorkloadProfile
{
    /// <summary>Sets up a fresh RAM file.</summary>
    void Initialise();

    /// <summary>Runs a short burst of work (at most a millisecond or so), so pause stays prompt.</summary>
    /// <returns>False when nothing was due: the runner then waits a little, quiescent.</returns>
    bool Step();
}
