// ElfImageBuilder: hand-built ELF64 app images for ElfImage tests. Program headers follow the
// 64-byte ELF header; Write patches any field afterwards to corrupt an image on purpose.
using System.Buffers.Binary;

namespace Aegis.Tests.Host.Exo;

internal sealed class ElfImageBuilder
{
    public const uint Load = 1, Interpreter = 3, Tls = 7, GnuStack = 0x6474E551;
    public const uint Execute = 1, Write = 2, Read = 4;
    public const int ProgramHeadersOffset = 64;

    private readonly System.Collections.Generic.List<ulong[]> _headers = new();

    public ulong Entry { get; set; }
    public int FileSize { get; set; }

    /// <summary>A program header: type, flags, offset, address, file size, memory size, alignment.</summary>
    public ElfImageBuilder Header(uint type, uint flags, ulong offset, ulong address, ulong fileSize, ulong memorySize, ulong alignment)
    {
        _headers.Add(new[] { type, flags, offset, address, fileSize, memorySize, alignment });
        return this;
    }

    public byte[] Build()
    {
        int minimum = ProgramHeadersOffset + _headers.Count * 56;
        byte[] file = new byte[Math.Max(FileSize, minimum)];
        file[0] = 0x7F; file[1] = (byte)'E'; file[2] = (byte)'L'; file[3] = (byte)'F';
        file[4] = 2; file[5] = 1; file[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(16), 2);   // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(18), 62);  // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(24), Entry);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(32), ProgramHeadersOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(52), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(54), 56);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(56), (ushort)_headers.Count);
        for (int i = 0; i < _headers.Count; i++)
        {
            Span<byte> header = file.AsSpan(ProgramHeadersOffset + i * 56);
            ulong[] h = _headers[i];
            BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)h[0]);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)h[1]);
            BinaryPrimitives.WriteUInt64LittleEndian(header[8..], h[2]);
            BinaryPrimitives.WriteUInt64LittleEndian(header[16..], h[3]);
            BinaryPrimitives.WriteUInt64LittleEndian(header[24..], h[3]);
            BinaryPrimitives.WriteUInt64LittleEndian(header[32..], h[4]);
            BinaryPrimitives.WriteUInt64LittleEndian(header[40..], h[5]);
            BinaryPrimitives.WriteUInt64LittleEndian(header[48..], h[6]);
        }
        for (int i = minimum; i < file.Length; i++) file[i] = (byte)(i * 7);
        return file;
    }

    /// <summary>What the app pipeline produces: text, then data + bss with a TLS template inside, and
    /// the GNU_STACK marker. 0x2100 bytes.</summary>
    public static ElfImageBuilder Typical() => new ElfImageBuilder { Entry = 0x401000, FileSize = 0x2100 }
        .Header(Load, Read | Execute, 0x1000, 0x401000, 0x800, 0x800, 0x1000)
        .Header(Load, Read | Write, 0x2000, 0x402000, 0x100, 0x3000, 0x1000)
        .Header(Tls, Read, 0x2010, 0x402010, 0x10, 0x40, 8)
        .Header(GnuStack, Read | Write, 0, 0, 0, 0, 16);

    /// <summary>Offset of field (8: offset, 16: address, 32: file size, 40: memory size, 48: alignment)
    /// of program header index.</summary>
    public static int FieldOf(int index, int field) => ProgramHeadersOffset + index * 56 + field;

    public static void Write64(byte[] file, int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(offset), value);
    public static void Write32(byte[] file, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(offset), value);
    public static void Write16(byte[] file, int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(offset), value);
}
