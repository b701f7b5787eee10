// Multiboot2ImageBuilder: writes multiboot2 boot-information images byte by byte, the way GRUB
// lays them out (8-byte header, 8-byte aligned tags, end tag), with knobs to break them.
using System.IO;
using System.Text;

namespace Aegis.Tests.Host;

internal sealed class Multiboot2ImageBuilder
{
    private readonly MemoryStream _tags = new();
    private bool _ended;

    public Multiboot2ImageBuilder CommandLine(string text) => StringTag(1, text);

    public Multiboot2ImageBuilder BootLoaderName(string text) => StringTag(2, text);

    public Multiboot2ImageBuilder Module(uint start, uint end, string text)
    {
        byte[] name = Encoding.ASCII.GetBytes(text + "\0");
        byte[] payload = new byte[8 + name.Length];
        WriteUInt32(payload, 0, start);
        WriteUInt32(payload, 4, end);
        name.CopyTo(payload, 8);
        return Tag(3, payload);
    }

    public Multiboot2ImageBuilder BasicMemoryInfo(uint lowerKilobytes, uint upperKilobytes)
    {
        byte[] payload = new byte[8];
        WriteUInt32(payload, 0, lowerKilobytes);
        WriteUInt32(payload, 4, upperKilobytes);
        return Tag(4, payload);
    }

    public Multiboot2ImageBuilder MemoryMap(params (ulong Base, ulong Length, uint Type)[] entries)
        => MemoryMap(24, entries);

    public Multiboot2ImageBuilder MemoryMap(uint entrySize, params (ulong Base, ulong Length, uint Type)[] entries)
    {
        int size = (int)System.Math.Max(entrySize, 24u);
        byte[] payload = new byte[8 + entries.Length * size];
        WriteUInt32(payload, 0, entrySize);
        WriteUInt32(payload, 4, 0);
        for (int i = 0; i < entries.Length; i++)
        {
            int at = 8 + i * size;
            WriteUInt64(payload, at, entries[i].Base);
            WriteUInt64(payload, at + 8, entries[i].Length);
            WriteUInt32(payload, at + 16, entries[i].Type);
        }
        return Tag(6, payload);
    }

    /// <summary>A tag whose header claims sizeField bytes whatever the payload's real length.</summary>
    public Multiboot2ImageBuilder Tag(uint type, byte[] payload, uint? sizeField = null)
    {
        byte[] header = new byte[8];
        WriteUInt32(header, 0, type);
        WriteUInt32(header, 4, sizeField ?? (uint)(8 + payload.Length));
        _tags.Write(header);
        _tags.Write(payload);
        while (_tags.Length % 8 != 0) _tags.WriteByte(0);
        return this;
    }

    public Multiboot2ImageBuilder End()
    {
        _ended = true;
        return Tag(0, []);
    }

    /// <summary>The image; total_size is its true length unless overridden. The end tag is added
    /// unless End() was called already or withEnd is false.</summary>
    public byte[] Build(uint? totalSize = null, bool withEnd = true, int trailingBytes = 0)
    {
        if (withEnd && !_ended) End();
        byte[] tags = _tags.ToArray();
        byte[] image = new byte[8 + tags.Length + trailingBytes];
        WriteUInt32(image, 0, totalSize ?? (uint)(8 + tags.Length));
        tags.CopyTo(image, 8);
        return image;
    }

    /// <summary>A map like QEMU's with 128 MiB: low RAM, the VGA/BIOS hole, RAM above 1 MiB, a BIOS area at 4 GiB - 256 KiB.</summary>
    public static Multiboot2ImageBuilder QemuLike() => new Multiboot2ImageBuilder()
        .CommandLine("/boot/aegis.elf test=runtime")
        .BootLoaderName("GRUB 2.06")
        .BasicMemoryInfo(639, 129920)
        .Module(0x200000, 0x201000, "/boot/aegis.sym")
        .MemoryMap(
            (0x0, 0x9FC00, 1),
            (0x9FC00, 0x400, 2),
            (0xF0000, 0x10000, 2),
            (0x100000, 0x7EE0000, 1),
            (0x7FE0000, 0x20000, 2),
            (0xFFFC0000, 0x40000, 2));

    public static void WriteUInt32(byte[] bytes, int offset, uint value)
    {
        for (int i = 0; i < 4; i++) bytes[offset + i] = (byte)(value >> (8 * i));
    }

    public static void WriteUInt64(byte[] bytes, int offset, ulong value)
    {
        for (int i = 0; i < 8; i++) bytes[offset + i] = (byte)(value >> (8 * i));
    }

    private Multiboot2ImageBuilder StringTag(uint type, string text) => Tag(type, Encoding.ASCII.GetBytes(text + "\0"));
}
