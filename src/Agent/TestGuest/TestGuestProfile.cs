namespace Ferry.Agent.TestGuest;

/// <summary>The guests Ferry can run without a downloaded image.</summary>
public enum TestGuestProfile
{
    /// <summary>No boot device: the BIOS finds nothing and idles; RAM stays almost all zero.</summary>
    Idle,

    /// <summary>A boot sector that forever increments one byte per 4 KiB page (<see cref="PageCounterBootSector"/>).</summary>
    PageCounter,
}
