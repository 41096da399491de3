using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Zero;

/// <summary>A maximal run of pages that are either all zero or all non-zero.</summary>
/// <param name="Range">The pages of the run.</param>
/// <param name="IsZero">True when every byte of every page in the run is zero.</param>
public readonly record struct PageRun(PageRange Range, bool IsZero);
