using System.Buffers.Binary;

namespace Ferry.Agent.TestGuest;

/// <summary>
/// Generates, as machine code bytes, the 512-byte boot sector of the memory-invariant test guest.
/// It enables A20, enters 32-bit protected mode with flat segments, clears the first byte of every
/// 4 KiB page of a range (the BIOS leaves data there), writes <see cref="BootMarker"/> to COM1 and
/// then forever increments those bytes in address order, wrapping around. Whenever it is stopped, the page bytes read in address order are all
/// equal except for at most one step where the value drops by exactly one (mod 256): the pages
/// before the vCPU's position have been incremented once more than those after it.
/// </summary>
public static class PageCounterBootSector
{
    /// <summary>The byte written to the serial port once the counters are cleared and counting starts.</summary>
    public const byte BootMarker = (byte)'F';

    /// <summary>How often the guest booted, from what it wrote to its serial port: one marker per boot.</summary>
    public static int Boots(string serialLog) => serialLog?.Count(c => c == (char)BootMarker) ?? 0;

    private const ushort LoadAddress = 0x7C00;
    private const ushort Com1 = 0x3F8;

    public static byte[] Build(PageCounterRange range)
    {
        ArgumentNullException.ThrowIfNull(range);
        if (range.Start % PageCounterRange.PageSize != 0 || range.End % PageCounterRange.PageSize != 0 || range.End <= range.Start || range.Start < 0x100000)
        {
            throw new ArgumentException("The range must be page aligned, non-empty and start at or above 1 MiB.", nameof(range));
        }

        var code = new Emitter();

        // --- 16-bit real mode, CS:IP = 0:7C00 or 7C0:0; only DS-relative addressing is used until the far jump.
        code.Bytes(0xFA);                               // cli
        code.Bytes(0x31, 0xC0);                         // xor ax, ax
        code.Bytes(0x8E, 0xD8);                         // mov ds, ax
        code.Bytes(0x8E, 0xD0);                         // mov ss, ax
        code.Bytes(0xBC); code.U16(LoadAddress);        // mov sp, 0x7c00
        code.Bytes(0xE4, 0x92);                         // in al, 0x92       (fast A20 gate)
        code.Bytes(0x0C, 0x02);                         // or al, 2          (A20 on)
        code.Bytes(0x24, 0xFE);                         // and al, 0xfe      (never the reset bit)
        code.Bytes(0xE6, 0x92);                         // out 0x92, al
        code.Bytes(0x0F, 0x01, 0x16);                   // lgdt [gdt_descriptor]
        var gdtDescriptorRef = code.Placeholder16();
        code.Bytes(0x0F, 0x20, 0xC0);                   // mov eax, cr0
        code.Bytes(0x0C, 0x01);                         // or al, 1          (PE)
        code.Bytes(0x0F, 0x22, 0xC0);                   // mov cr0, eax
        code.Bytes(0xEA);                               // jmp far 0x08:protected
        var protectedRef = code.Placeholder16();
        code.U16(0x0008);

        // --- 32-bit protected mode, flat 4 GiB segments.
        code.Patch16(protectedRef, (ushort)(LoadAddress + code.Position));
        code.Bytes(0x66, 0xB8); code.U16(0x0010);       // mov ax, 0x10
        code.Bytes(0x8E, 0xD8);                         // mov ds, ax
        code.Bytes(0x8E, 0xC0);                         // mov es, ax
        code.Bytes(0x8E, 0xD0);                         // mov ss, ax

        // The BIOS leaves data in low memory; clear every counter first so the invariant starts true.
        code.Bytes(0xB8); code.U32(range.Start);        // mov eax, start
        var clear = code.Position;
        code.Bytes(0xC6, 0x00, 0x00);                   // clear: mov byte [eax], 0
        code.Bytes(0x05); code.U32(PageCounterRange.PageSize); // add eax, 4096
        code.Bytes(0x3D); code.U32(range.End);          // cmp eax, end
        code.Bytes(0x72); code.Rel8(clear);             // jb clear
        code.Bytes(0x66, 0xBA); code.U16(Com1);         // mov dx, 0x3f8
        code.Bytes(0xB0, BootMarker);                   // mov al, 'F'
        code.Bytes(0xEE);                               // out dx, al       (counters are clear; counting starts)

        var sweep = code.Position;
        code.Bytes(0xB8); code.U32(range.Start);        // sweep: mov eax, start
        var page = code.Position;
        code.Bytes(0xFE, 0x00);                         // page:  inc byte [eax]
        code.Bytes(0x05); code.U32(PageCounterRange.PageSize); // add eax, 4096
        code.Bytes(0x3D); code.U32(range.End);          // cmp eax, end
        code.Bytes(0x72); code.Rel8(page);              // jb page
        code.Bytes(0xEB); code.Rel8(sweep);             // jmp sweep

        // --- GDT: null, code (0x08), data (0x10); base 0, limit 4 GiB, 32-bit.
        code.Align(8);
        var gdt = code.Position;
        code.Bytes(0, 0, 0, 0, 0, 0, 0, 0);
        code.Bytes(0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00);
        code.Bytes(0xFF, 0xFF, 0x00, 0x00, 0x00, 0x92, 0xCF, 0x00);
        code.Patch16(gdtDescriptorRef, (ushort)(LoadAddress + code.Position));
        code.U16(3 * 8 - 1);
        code.U32((uint)(LoadAddress + gdt));

        return code.ToBootSector();
    }

    private sealed class Emitter
    {
        private readonly byte[] _buffer = new byte[512];

        public int Position { get; private set; }

        public void Bytes(params ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_buffer.AsSpan(Position));
            Position += bytes.Length;
        }

        public void U16(ushort value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(Position), value);
            Position += 2;
        }

        public void U32(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(Position), value);
            Position += 4;
        }

        public int Placeholder16()
        {
            var at = Position;
            U16(0);
            return at;
        }

        public void Patch16(int at, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(at), value);

        public void Rel8(int target)
        {
            var displacement = target - (Position + 1);
            if (displacement is < sbyte.MinValue or > sbyte.MaxValue)
            {
                throw new InvalidOperationException("Short jump out of range.");
            }

            _buffer[Position++] = unchecked((byte)(sbyte)displacement);
        }

        public void Align(int alignment)
        {
            while (Position % alignment != 0)
            {
                _buffer[Position++] = 0x90;
            }
        }

        public byte[] ToBootSector()
        {
            if (Position > 510)
            {
                throw new InvalidOperationException("The boot code does not fit in one sector.");
            }

            // The BIOS only boots a sector ending in the 0x55AA signature.
            _buffer[510] = 0x55;
            _buffer[511] = 0xAA;
            return _buffer;
        }
    }
}
