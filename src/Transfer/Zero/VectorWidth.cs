namespace Ferry.Transfer.Zero;

/// <summary>The instruction width a zero scan runs with; the value is the vector size in bytes.</summary>
public enum VectorWidth
{
    /// <summary>64-bit scalar words, for CPUs without SIMD.</summary>
    Scalar = 8,

    /// <summary>SSE2 / AdvSIMD, 16 bytes.</summary>
    Vector128 = 16,

    /// <summary>AVX2, 32 bytes (the origin document's change b).</summary>
    Vector256 = 32,

    /// <summary>AVX-512, 64 bytes.</summary>
    Vector512 = 64,
}
