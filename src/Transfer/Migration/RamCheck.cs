namespace Ferry.Transfer.Migration;

/// <summary>
/// The source RAM after the switch-over compared with what was last sent of each page.
/// <paramref name="Mismatched"/> pages were written after their last send and never sent again: the
/// target did not get them. <paramref name="Examples"/> are the first few such page numbers.
/// </summary>
public sealed record RamCheck(long Pages, long Mismatched, IReadOnlyList<long> Examples)
{
    /// <summary>True when every page matched.</summary>
    public bool Passed => Mismatched == 0;

    /// <inheritdoc/>
    public override string ToString() => Passed
        ? $"RAM check: all {Pages} pages match what was sent"
        : $"RAM check: {Mismatched} of {Pages} pages changed after their last send and never reached the target (pages {string.Join(", ", Examples)})";
}
