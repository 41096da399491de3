using System.Buffers.Binary;

namespace Ferry.Migration.Benchmark;

/// <summary>
/// Generates the boot sector of a QEMU guest that dirties memory at a fixed rate independent of
/// how fast its vCPU runs (TCG here, KVM elsewhere): it programs PIT channel 0 as a free-running
/// 1.193182 MHz counter, polls it, and every <c>ticks</c> counts increments the first byte of the
/// next <c>pages</c> pages of a range in address order, wrapping around. The agent's page-counter
/// guest runs flat out and would dirty every page all the time under either accelerator; pacing by
/// the PIT is what makes the rate a number the engine's workload can be set to. The guest cannot see
/// writes from other processes, and QEMU's dirty log cannot see writes into its RAM file from
/// outside, so the guest has to dirty itself.
/// </summary>
internal static class PacedDirtyBootSector
{
    public const double PitHz = 1_193_182;
    private const ushort LoadAddress = 0x7C00;

    /// <summary>Pages per second the generated guest dirties.</summary>
    public static double Rate(uint pages, uint ticks) => pages * PitHz / ticks;

    /// <summary>Picks whole pages per period and a period in PIT ticks that give <paramref name="pagesPerSecond"/> closely.</summary>
    public static (uint Pages, uint Ticks) Pacing(double pagesPerSecond)
    {
        // About one period per millisecond, so the writes are spread evenly at the granularity a tracker sees.
        uint pages = (uint)Math.Max(1, Math.Round(pagesPerSecond / 1000));
        uint ticks = (uint)Math.Max(8, Math.Round(pages * PitHz / pagesPerSecond));
        return (pages, ticks);
    }

    public static byte[] Build(uint start, uint end, uint pages, uint ticks)
    {
        if (start % 4096 != 0 || end % 4096 != 0 || end <= start || start < 0x100000)
        {
            throw new ArgumentException("The range must be page aligned, non-empty and above 1 MiB.");
        }

        var code = new List<byte>();
        void Add(params byte[] bytes) => code.AddRange(bytes);
        void U32(uint value)
        {
            var b = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, value);
            code.AddRange(b);
        }

        void U16(ushort value) => code.AddRange([(byte)value, (byte)(value >> 8)]);
        byte Rel8(int target) => unchecked((byte)(sbyte)(target - (code.Count + 1)));

        // Real mode: A20 on, load the GDT, enter protected mode.
        Add(0xFA, 0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xD0, 0xBC);
        U16(LoadAddress);
        Add(0xE4, 0x92, 0x0C, 0x02, 0x24, 0xFE, 0xE6, 0x92);
        Add(0x0F, 0x01, 0x16);
        int gdtDescriptorRef = code.Count;
        U16(0);
        Add(0x0F, 0x20, 0xC0, 0x0C, 0x01, 0x0F, 0x22, 0xC0, 0xEA);
        int protectedRef = code.Count;
        U16(0);
        U16(0x0008);

        // 32-bit protected mode, flat segments.
        Patch16(code, protectedRef, (ushort)(LoadAddress + code.Count));
        Add(0x66, 0xB8, 0x10, 0x00, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0);
        Add(0xB0, 0x34, 0xE6, 0x43, 0x30, 0xC0, 0xE6, 0x40, 0xE6, 0x40); // PIT ch0: mode 2, lo/hi, reload 65536
        Add(0xBF); U32(start);                                           // mov edi, start (page cursor)
        Add(0x31, 0xDB, 0x31, 0xF6);                                     // xor ebx, ebx (last count); xor esi, esi (ticks owed)
        int poll = code.Count;
        Add(0x30, 0xC0, 0xE6, 0x43);                                     // latch ch0
        Add(0xE4, 0x40, 0x88, 0xC1, 0xE4, 0x40, 0x88, 0xC5);             // cx = count
        Add(0x0F, 0xB7, 0xC9, 0x89, 0xDA, 0x29, 0xCA);                   // movzx ecx, cx; edx = last - count
        Add(0x81, 0xE2); U32(0xFFFF);                                    // and edx, 0xffff (the counter counts down and wraps)
        Add(0x89, 0xCB, 0x01, 0xD6);                                     // last = count; owed += edx
        int check = code.Count;
        Add(0x81, 0xFE); U32(ticks);                                     // cmp esi, ticks
        Add(0x72); code.Add(Rel8(poll));                                 // jb poll
        Add(0x81, 0xEE); U32(ticks);                                     // sub esi, ticks
        Add(0xBD); U32(pages);                                           // mov ebp, pages
        int page = code.Count;
        Add(0xFE, 0x07);                                                 // inc byte [edi]
        Add(0x81, 0xC7); U32(4096);                                      // add edi, 4096
        Add(0x81, 0xFF); U32(end);                                       // cmp edi, end
        Add(0x72, 0x05);                                                 // jb +5
        Add(0xBF); U32(start);                                           // mov edi, start
        Add(0x4D);                                                       // dec ebp
        Add(0x75); code.Add(Rel8(page));                                 // jnz page
        Add(0xEB); code.Add(Rel8(check));                                // jmp check

        while (code.Count % 8 != 0)
        {
            code.Add(0x90);
        }

        int gdt = code.Count;
        Add(0, 0, 0, 0, 0, 0, 0, 0);
        Add(0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00);
        Add(0xFF, 0xFF, 0x00, 0x00, 0x00, 0x92, 0xCF, 0x00);
        Patch16(code, gdtDescriptorRef, (ushort)(LoadAddress + code.Count));
        U16(3 * 8 - 1);
        U32((uint)(LoadAddress + gdt));
        if (code.Count > 510)
        {
            throw new InvalidOperationException("The boot code does not fit in one sector.");
        }

        var sector = new byte[512];
        code.CopyTo(sector);
        sector[510] = 0x55;
        sector[511] = 0xAA;
        return sector;
    }

    private static void Patch16(List<byte> code, int at, ushort value)
    {
        code[at] = (byte)value;
        code[at + 1] = (byte)(value >> 8);
    }
}
