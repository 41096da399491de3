using System.Runtime.InteropServices;

namespace Ferry.Transfer.Workload;

/// <summary>
/// Page 0 of the RAM file: everything the workload needs to continue where it stopped,
/// so a migrated RAM file is a migrated workload.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct StateHeader
{
    public const ulong ExpectedMagic = 0x314C_5759_5252_4546; // "FERRYWL1"

    public ulong Magic;
    public int ProfileId;
    public int Reserved;
    public ulong Steps;
    public ulong Random;     // xorshift state of the random profile
    public ulong SweepValue; // value being stamped by the sweep profile
    public long SweepPage;   // next page the sweep stamps
    public long L2Offset;    // l2fwd: byte offset of its structures, see L2ForwardProfile
}
