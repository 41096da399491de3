namespace Ferry.Transfer.Migration;

/// <summary>What one pass moved and what the convergence controller saw after it.</summary>
/// <param name="Pass">0 for the first pass, then 1, 2, … for dirty passes.</param>
/// <param name="PagesSent">Pages sent with their contents.</param>
/// <param name="ZeroPages">Pages sent as zero ranges after a scan.</param>
/// <param name="SkippedPages">Never-written pages sent as zero ranges without being read.</param>
/// <param name="Bytes">Bytes on the wire.</param>
/// <param name="Duration">From the first byte to the last acknowledgement.</param>
/// <param name="UnchangedPages">Pages reported dirty but left out because their content was what was last sent.</param>
public sealed record PassReport(int Pass, long PagesSent, long ZeroPages, long SkippedPages, long Bytes, TimeSpan Duration, long UnchangedPages = 0)
{
    /// <summary>Pages the pass read: sent, found zero, or found unchanged (holes are not read).</summary>
    public long PagesRead => PagesSent + ZeroPages + UnchangedPages;
}
