namespace Ferry.Transfer.Workload.Profiles;

/// <summary>A memory behaviour; all of its state lives in the RAM file.</summary>
internal interface IWorkloadProfile
{
    /// <summary>Sets up a fresh RAM file.</summary>
    void Initialise();

    /// <summary>
    /// Pages (or frames) one step may write at most. A pause waits for the step in progress,
    /// including the write faults of pages the dirty tracker has just re-armed (microseconds each
    /// on a virtual machine), so a step is kept to what a real guest does between two looks at
    /// its work: one burst.
    /// </summary>
    const int MaxWritesPerStep = 32;

    /// <summary>Runs a short burst of work (at most <see cref="MaxWritesPerStep"/> writes), so a pause stays prompt.</summary>
    /// <returns>False when nothing was due: the runner then waits a little, quiescent.</returns>
    bool Step();
}
