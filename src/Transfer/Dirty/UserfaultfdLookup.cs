namespace Ferry.Transfer.Dirty;

/// <summary>
/// Finds the userfaultfd created inside process <paramref name="pid"/> (by the preload library), as the agent's
/// registry of taken userfaultfds does; false, with the reason, when there is none.
/// </summary>
/// <param name="pid">The process that writes the guest's RAM.</param>
/// <param name="userfaultfd">Its userfaultfd, when found.</param>
/// <param name="reason">Why none was found.</param>
public delegate bool UserfaultfdLookup(int pid, out ProcessUserfaultfd? userfaultfd, out string reason);
