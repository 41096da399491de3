namespace Ferry.Migration.Benchmark;

/// <summary>The two guests did not dirty the same way, so no ratio may be printed.</summary>
internal sealed class ProfileMismatchException(string message, bool qemuGuestUnderKvm = false) : Exception(message)
{
    /// <summary>
    /// The QEMU guest missed its pace while running under KVM: a KVM that runs boot-sector code may
    /// still not keep a PIT-paced guest's pace (kvm_pvm's, seen here: 0 pages/s), and TCG then can.
    /// </summary>
    public bool QemuGuestUnderKvm { get; } = qemuGuestUnderKvm;
}
