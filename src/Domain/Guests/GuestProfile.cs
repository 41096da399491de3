namespace Ferry.Domain.Guests;

/// <summary>What a guest runs when Ferry launches it.</summary>
public enum GuestProfile
{
    /// <summary>No boot device: the firmware idles. Memory is almost all zero pages.</summary>
    Idle,

    /// <summary>The memory-invariant test guest: increments one byte in every page, in address order, forever.</summary>
    PageCounter,

    /// <summary>
    /// The L2-forwarding guest of the origin document's NFV case: forwards every frame between its two
    /// vhost-user NICs, so it needs exactly two ports. Its agent must have the image configured.
    /// </summary>
    Forwarder,
}
