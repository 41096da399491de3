using Ferry.Transfer.Memory;

namespace Ferry.Transfer.Migration;

/// <summary>Part of a pass inside one partition chunk: pages to scan and send, or a hole to send as zero unread.</summary>
/// <param name="Range">The pages.</param>
/// <param name="Hole">True when the pages were never allocated and are known zero.</param>
internal readonly record struct PassPiece(PageRange Range, bool Hole);
