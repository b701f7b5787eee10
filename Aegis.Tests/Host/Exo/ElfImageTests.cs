// App images: a valid static x86-64 executable at user addresses loads; anything else gets one
// clear line naming the problem, and no input makes the parser throw.
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using NUnit.Framework;
using static Aegis.Tests.Host.Exo.ElfImageBuilder;

namespace Aegis.Tests.Host.Exo;

public class ElfImageTests
{
    private static string Reject(byte[] file)
    {
        Assert.That(ElfImage.TryParse(file, out ElfImage image, out string error), Is.False, "the image should be refused");
        Assert.That(image, Is.Null);
        Assert.That(error, Does.StartWith("image: "));
        Assert.That(error, Does.Not.Contain("\n"));
        return error;
    }

    private static ElfImage Accept(byte[] file)
    {
        Assert.That(ElfImage.TryParse(file, out ElfImage image, out string error), Is.True, error);
        Assert.That(error, Is.Null);
        return image;
    }

    [Test]
    public void TypicalImageParses()
    {
        ElfImage image = Accept(Typical().Build());
        Assert.That(image.Entry, Is.EqualTo(0x401000UL));
        Assert.That(image.Segments.Count, Is.EqualTo(2));
        ElfSegment text = image.Segments[0], data = image.Segments[1];
        Assert.That((text.VirtualAddress, text.MemorySize, text.FileOffset, text.FileSize), Is.EqualTo((0x401000UL, 0x800UL, 0x1000UL, 0x800UL)));
        Assert.That((text.Writable, text.Executable), Is.EqualTo((false, true)));
        Assert.That((data.VirtualAddress, data.MemorySize, data.FileOffset, data.FileSize), Is.EqualTo((0x402000UL, 0x3000UL, 0x2000UL, 0x100UL)));
        Assert.That((data.Writable, data.Executable), Is.EqualTo((true, false)));
        Assert.That(image.HasTls, Is.True);
        Assert.That((image.Tls.VirtualAddress, image.Tls.FileSize, image.Tls.MemorySize, image.Tls.Alignment), Is.EqualTo((0x402010UL, 0x10UL, 0x40UL, 8UL)));
        Assert.That(image.PageCount, Is.EqualTo(4UL));
    }

    [Test]
    public void ImageWithoutTlsParses()
    {
        ElfImage image = Accept(new ElfImageBuilder { Entry = 0x400100, FileSize = 0x300 }
            .Header(Load, Read | Execute, 0x100, 0x400100, 0x200, 0x200, 0x10).Build());
        Assert.That(image.HasTls, Is.False);
        Assert.That(image.PageCount, Is.EqualTo(1UL));
    }

    [Test]
    public void SegmentsSharingAPageAreAcceptedAndCountedOnce()
    {
        // As `ld -n` lays them out: no page alignment in the file, text and data in one page.
        ElfImage image = Accept(new ElfImageBuilder { Entry = 0x400120, FileSize = 0x1000 }
            .Header(Load, Read | Write, 0x800, 0x400800, 0x100, 0x1900, 8)
            .Header(Load, Read | Execute, 0x120, 0x400120, 0x600, 0x600, 8).Build());
        Assert.That(image.Segments[0].VirtualAddress, Is.EqualTo(0x400120UL), "sorted by address");
        Assert.That(image.PageCount, Is.EqualTo(3UL), "pages 0x400000, 0x401000, 0x402000");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void APageTwoSegmentsShareGetsTheUnionOfTheirPermissions(bool textFirstInFile)
    {
        // Text (R-X) ends in page 0x400000 where data (RW-) begins: that page must stay executable
        // for the text and writable for the data, whichever segment the loader meets last.
        ElfImageBuilder builder = new ElfImageBuilder { Entry = 0x400120, FileSize = 0x1000 };
        if (textFirstInFile)
            builder.Header(Load, Read | Execute, 0x120, 0x400120, 0x600, 0x600, 8).Header(Load, Read | Write, 0x800, 0x400800, 0x100, 0x1900, 8);
        else
            builder.Header(Load, Read | Write, 0x800, 0x400800, 0x100, 0x1900, 8).Header(Load, Read | Execute, 0x120, 0x400120, 0x600, 0x600, 8);
        ElfImage image = Accept(builder.Build());

        Assert.That(image.PagePermissions(0x400000, out bool writable, out bool executable), Is.True);
        Assert.That((writable, executable), Is.EqualTo((true, true)), "the shared page");
        Assert.That(image.PagePermissions(0x401000, out writable, out executable), Is.True);
        Assert.That((writable, executable), Is.EqualTo((true, false)), "data only");
        Assert.That(image.PagePermissions(0x403000, out _, out _), Is.False, "no segment there");
    }

    [Test]
    public void LayoutOfAStaticExecutableFromLdParses()
    {
        // The program headers `ld -static -z max-page-size=0x1000` wrote for a small test program
        // (headers page, text, data+bss with .tdata/.tbss), copied from readelf -l.
        ElfImage image = Accept(new ElfImageBuilder { Entry = 0x401000, FileSize = 0x2018 }
            .Header(Load, Read, 0, 0x400000, 0x158, 0x158, 0x1000)
            .Header(Load, Read | Execute, 0x1000, 0x401000, 0xBBF, 0xBBF, 0x1000)
            .Header(Load, Read | Write, 0x1FF8, 0x402FF8, 0x20, 0x4E40, 0x1000)
            .Header(Tls, Read, 0x1FF8, 0x402FF8, 0x8, 0x48, 1)
            .Header(0x6474E552, Read, 0x1FF8, 0x402FF8, 0x8, 0x8, 1).Build());
        Assert.That(image.PageCount, Is.EqualTo(8UL));
        Assert.That(image.Tls.VirtualAddress, Is.EqualTo(0x402FF8UL));
    }

    [Test]
    public void LayoutOfAnNmagicExecutableFromLdParses()
    {
        // The same program linked with `ld -n`: one RWX segment, byte alignment, TLS inside it.
        ElfImage image = Accept(new ElfImageBuilder { Entry = 0x4000B0, FileSize = 0x2018 }
            .Header(Load, Read | Write | Execute, 0xB0, 0x4000B0, 0x1F68, 0x6D88, 1)
            .Header(Tls, Read, 0x1FF8, 0x401FF8, 0x8, 0x48, 1).Build());
        Assert.That(image.PageCount, Is.EqualTo(7UL));
        Assert.That(image.Segments[0].Writable && image.Segments[0].Executable, Is.True);
    }

    [Test]
    public void EmptyLoadSegmentsAreDropped()
    {
        ElfImage image = Accept(Typical().Header(Load, Read, 0, 0, 0, 0, 0).Build());
        Assert.That(image.Segments.Count, Is.EqualTo(2));
    }

    [Test]
    public void TooShortForAHeader()
    {
        Assert.That(Reject(new byte[10]), Does.Contain("too short"));
        Assert.That(Reject(Array.Empty<byte>()), Does.Contain("0 bytes"));
    }

    [Test]
    public void BadMagic()
    {
        byte[] file = Typical().Build();
        file[1] = (byte)'X';
        Assert.That(Reject(file), Does.Contain("not an ELF file"));
    }

    [TestCase(4, 1, "64-bit")]
    [TestCase(5, 2, "little-endian")]
    [TestCase(6, 0, "identification version")]
    public void BadIdentification(int offset, byte value, string expected)
    {
        byte[] file = Typical().Build();
        file[offset] = value;
        Assert.That(Reject(file), Does.Contain(expected));
    }

    [TestCase(1, "ELF type 1")]
    [TestCase(3, "ELF type 3")]
    [TestCase(4, "ELF type 4")]
    public void NotAnExecutable(int type, string expected)
    {
        byte[] file = Typical().Build();
        Write16(file, 16, (ushort)type);
        Assert.That(Reject(file), Does.Contain(expected));
    }

    [TestCase(3)]
    [TestCase(183)]
    [TestCase(40)]
    public void WrongMachine(int machine)
    {
        byte[] file = Typical().Build();
        Write16(file, 18, (ushort)machine);
        Assert.That(Reject(file), Does.Contain($"not an x86-64 image (machine {machine})"));
    }

    [Test]
    public void WrongVersion()
    {
        byte[] file = Typical().Build();
        Write32(file, 20, 2);
        Assert.That(Reject(file), Does.Contain("unknown ELF version 2"));
    }

    [TestCase(0, "entries are 0 bytes")]
    [TestCase(32, "entries are 32 bytes")]
    [TestCase(64, "entries are 64 bytes")]
    public void WrongProgramHeaderSize(int size, string expected)
    {
        byte[] file = Typical().Build();
        Write16(file, 54, (ushort)size);
        Assert.That(Reject(file), Does.Contain(expected));
    }

    [Test]
    public void NoProgramHeaders()
    {
        byte[] file = Typical().Build();
        Write16(file, 56, 0);
        Assert.That(Reject(file), Does.Contain("no program headers"));
    }

    [TestCase(65)]
    [TestCase(0xFFFF)]
    public void TooManyProgramHeaders(int count)
    {
        byte[] file = Typical().Build();
        Write16(file, 56, (ushort)count);
        Assert.That(Reject(file), Does.Contain($"{count} program headers"));
    }

    [TestCase(0x2100UL)]
    [TestCase(0x20F0UL)]
    [TestCase(ulong.MaxValue)]
    [TestCase(ulong.MaxValue - 100)]
    [TestCase(0x8000_0000UL)]
    public void ProgramHeadersPastTheEnd(ulong offset)
    {
        byte[] file = Typical().Build();
        Write64(file, 32, offset);
        Assert.That(Reject(file), Does.Contain("program headers").And.Contain("end past the end of the file"));
    }

    [Test]
    public void SegmentEndsPastTheEndOfTheFile()
    {
        byte[] file = Typical().Build();
        Write64(file, FieldOf(1, 32), 0x200);
        Write64(file, FieldOf(1, 8), 0x2000);
        Assert.That(Reject(file), Is.EqualTo("image: segment 1 ends past the end of the file (offset 0x2000, size 0x200, file 0x2100 bytes)"));
    }

    [TestCase(ulong.MaxValue)]
    [TestCase(ulong.MaxValue - 0x50)]
    [TestCase(0x2101UL)]
    public void SegmentOffsetOverflowIsCaught(ulong offset)
    {
        byte[] file = Typical().Build();
        Write64(file, FieldOf(0, 8), offset);
        Assert.That(Reject(file), Does.Contain("segment 0 ends past the end of the file"));
    }

    [Test]
    public void FileSizeLargerThanMemorySize()
    {
        byte[] file = Typical().Build();
        Write64(file, FieldOf(0, 40), 0x400);
        Assert.That(Reject(file), Does.Contain("segment 0 has more file bytes (0x800) than memory (0x400)"));
    }

    [TestCase(0UL)]
    [TestCase(0x1000UL)]
    [TestCase(UserAddresses.LowestMappable - 0x1000)]
    [TestCase(UserAddresses.ReservedTop)]
    [TestCase(UserAddresses.InfoPage)]
    [TestCase(UserAddresses.UserEnd)]
    [TestCase(0xFFFF_FFFF_8010_0000UL)]
    [TestCase(0xFFFF_FFFF_FFFF_F000UL)]
    public void SegmentOutsideUserMemory(ulong address)
    {
        byte[] file = new ElfImageBuilder { Entry = address, FileSize = 0x2000 }
            .Header(Load, Read | Execute, 0x1000, address, 0x800, 0x800, 0x1000).Build();
        Assert.That(Reject(file), Does.Contain("segment 0").And.Contain("outside user memory"));
    }

    [TestCase(UserAddresses.ReservedTop - 0x1000, 0x2000UL)]
    [TestCase(0x400000UL, ulong.MaxValue)]
    [TestCase(0x400000UL, ulong.MaxValue - 0x3FFFFF)]
    [TestCase(0x400000UL, 0x8000_0000_0000UL)]
    public void SegmentRunningPastUserMemoryOrWrapping(ulong address, ulong memorySize)
    {
        byte[] file = new ElfImageBuilder { Entry = address, FileSize = 0x2000 }
            .Header(Load, Read | Execute, 0x1000, address, 0x800, memorySize, 0x1000).Build();
        Assert.That(Reject(file), Does.Contain("outside user memory"));
    }

    [Test]
    public void SegmentOverTheInitialStack()
    {
        ulong address = UserAddresses.InitialStackTop - 0x1000;
        byte[] file = new ElfImageBuilder { Entry = address, FileSize = 0x2000 }
            .Header(Load, Read | Execute, 0x1000, address, 0x800, 0x800, 0x1000).Build();
        Assert.That(Reject(file), Does.Contain("overlaps the initial stack"));
    }

    [TestCase(3UL)]
    [TestCase(0x1001UL)]
    [TestCase(ulong.MaxValue)]
    public void AlignmentNotAPowerOfTwo(ulong alignment)
    {
        byte[] file = Typical().Build();
        Write64(file, FieldOf(0, 48), alignment);
        Assert.That(Reject(file), Does.Contain("not a power of two"));
    }

    [Test]
    public void AddressAndOffsetDisagreeModuloTheAlignment()
    {
        byte[] file = Typical().Build();
        Write64(file, FieldOf(0, 8), 0x1100);
        Write64(file, FieldOf(0, 32), 0x100);
        Assert.That(Reject(file), Does.Contain("differ modulo its alignment 0x1000"));
    }

    [Test]
    public void OverlappingSegments()
    {
        byte[] file = Typical().Build();
        Write64(file, FieldOf(1, 16), 0x401700);
        Write64(file, FieldOf(1, 8), 0x1700);
        Assert.That(Reject(file), Is.EqualTo("image: segments 0 and 1 overlap ([0x401000, 0x401800) and [0x401700, 0x404700))"));
    }

    [Test]
    public void OverlappingSegmentsInReverseOrder()
    {
        byte[] file = new ElfImageBuilder { Entry = 0x401000, FileSize = 0x3000 }
            .Header(Load, Read | Write, 0x2000, 0x402000, 0x100, 0x100, 0x1000)
            .Header(Load, Read | Execute, 0x1000, 0x401000, 0x800, 0x1800, 0x1000).Build();
        Assert.That(Reject(file), Does.Contain("segments 1 and 0 overlap"));
    }

    [Test]
    public void NoLoadableSegment()
    {
        byte[] file = new ElfImageBuilder { Entry = 0x401000, FileSize = 0x200 }
            .Header(GnuStack, Read | Write, 0, 0, 0, 0, 16)
            .Header(Load, Read, 0, 0x400000, 0, 0, 0).Build();
        Assert.That(Reject(file), Does.Contain("no loadable segment"));
    }

    [TestCase(0x400FFFUL)]
    [TestCase(0x401800UL)]
    [TestCase(0x402000UL)]
    [TestCase(0UL)]
    [TestCase(ulong.MaxValue)]
    public void EntryOutsideAnExecutableSegment(ulong entry)
    {
        byte[] file = Typical().Build();
        Write64(file, 24, entry);
        Assert.That(Reject(file), Does.Contain("entry point").And.Contain("not inside an executable segment"));
    }

    [Test]
    public void EntryInANonExecutableSegment()
    {
        byte[] file = Typical().Build();
        Write32(file, FieldOf(0, 4), Read);
        Assert.That(Reject(file), Does.Contain("entry point 0x401000 is not inside an executable segment"));
    }

    [Test]
    public void InterpreterIsRefused()
    {
        byte[] file = Typical().Header(Interpreter, Read, 0x100, 0, 0x1C, 0x1C, 1).Build();
        Assert.That(Reject(file), Does.Contain("program header 4 asks for an interpreter"));
    }

    [Test]
    public void SecondTlsSegmentIsRefused()
    {
        byte[] file = Typical().Header(Tls, Read, 0x2010, 0x402010, 0x10, 0x40, 8).Build();
        Assert.That(Reject(file), Does.Contain("second TLS segment"));
    }

    [Test]
    public void TlsTemplateOutsideTheLoadedFileBytes()
    {
        byte[] file = Typical().Build();
        Write64(file, FieldOf(2, 16), 0x402100);
        Write64(file, FieldOf(2, 8), 0x2100 - 0x10);
        Assert.That(Reject(file), Does.Contain("TLS template").And.Contain("not inside the file bytes of a loaded segment"));
    }

    [Test]
    public void TlsFileBytesPastTheEndOfTheFile()
    {
        byte[] file = Typical().Build();
        Write64(file, FieldOf(2, 32), 0x1000);
        Write64(file, FieldOf(2, 40), 0x1000);
        Assert.That(Reject(file), Does.Contain("TLS segment (program header 2) ends past the end of the file"));
    }

    [Test]
    public void TlsWithMoreFileBytesThanMemory()
    {
        byte[] file = Typical().Build();
        Write64(file, FieldOf(2, 40), 0x8);
        Assert.That(Reject(file), Does.Contain("TLS segment (program header 2) has more file bytes"));
    }

    [Test]
    public void TlsWithAHugeSizeOrBadAlignment()
    {
        byte[] file = Typical().Build();
        Write64(file, FieldOf(2, 40), ulong.MaxValue);
        Assert.That(Reject(file), Does.Contain("too large"));
        file = Typical().Build();
        Write64(file, FieldOf(2, 48), 6);
        Assert.That(Reject(file), Does.Contain("not a power of two"));
    }

    [Test]
    public void TruncationAtEveryLengthNeverThrows()
    {
        byte[] whole = Typical().Build();
        for (int length = 0; length < whole.Length; length++)
        {
            bool parsed = ElfImage.TryParse(whole.AsSpan(0, length), out ElfImage image, out string error);
            Assert.That(parsed, Is.False, $"length {length}");
            Assert.That(error, Does.StartWith("image: "), $"length {length}");
            Assert.That(image, Is.Null);
        }
        Assert.That(ElfImage.TryParse(whole, out _, out _), Is.True);
    }

    [Test]
    public void RandomByteFlipsGiveAClearErrorOrASoundImage([Values(21, 22, 23, 24)] int seed)
    {
        Random random = new(seed);
        byte[] original = Typical().Header(Load, Read, 0x1900, 0x500900, 0x100, 0x100, 0x100).Build();
        int accepted = 0;
        for (int round = 0; round < 5000; round++)
        {
            byte[] file = (byte[])original.Clone();
            int flips = 1 + random.Next(4);
            for (int i = 0; i < flips; i++)
            {
                // Mostly the headers, where a flip matters; sometimes anywhere.
                int offset = random.Next(4) == 0 ? random.Next(file.Length) : random.Next(64 + 5 * 56);
                file[offset] ^= (byte)(1 << random.Next(8));
                if (random.Next(8) == 0) file[offset] = (byte)random.Next(256);
            }
            if (CheckParse(file, round)) accepted++;
        }
        Assert.That(accepted, Is.GreaterThan(0), "some flips hit bytes that do not matter");
    }

    [Test]
    public void RandomHeadersNeverThrow([Values(31, 32)] int seed)
    {
        Random random = new(seed);
        for (int round = 0; round < 5000; round++)
        {
            ElfImageBuilder builder = new() { Entry = RandomValue(random), FileSize = random.Next(0x3000) };
            int count = random.Next(6);
            for (int i = 0; i < count; i++)
                builder.Header((uint)random.Next(8), (uint)random.Next(8), RandomValue(random), RandomValue(random),
                    RandomValue(random), RandomValue(random), RandomValue(random));
            CheckParse(builder.Build(), round);
        }
    }

    private static ulong RandomValue(Random random) => random.Next(5) switch
    {
        0 => (ulong)random.NextInt64() | ((ulong)random.Next(2) << 63),
        1 => ulong.MaxValue - (ulong)random.Next(0x3000),
        2 => 0x400000 + (ulong)random.Next(0x4000),
        3 => (ulong)random.Next(0x3000),
        _ => 1UL << random.Next(64),
    };

    /// <summary>Either a one-line error, or an image whose promises hold.</summary>
    private static bool CheckParse(byte[] file, int round)
    {
        bool parsed;
        ElfImage image;
        string error;
        try
        {
            parsed = ElfImage.TryParse(file, out image, out error);
        }
        catch (Exception exception)
        {
            Assert.Fail($"round {round}: TryParse threw {exception}");
            return false;
        }
        if (!parsed)
        {
            Assert.That(image, Is.Null);
            Assert.That(error, Does.StartWith("image: "));
            Assert.That(error, Does.Not.Contain("\n"));
            return false;
        }
        Assert.That(error, Is.Null);
        Assert.That(image.Segments.Count, Is.GreaterThan(0));
        bool entryFound = false;
        for (int i = 0; i < image.Segments.Count; i++)
        {
            ElfSegment segment = image.Segments[i];
            Assert.That(segment.VirtualAddress, Is.GreaterThanOrEqualTo(UserAddresses.LowestMappable));
            Assert.That(segment.MemorySize, Is.LessThanOrEqualTo(UserAddresses.ReservedTop - segment.VirtualAddress));
            Assert.That(segment.FileSize, Is.LessThanOrEqualTo(segment.MemorySize));
            Assert.That(segment.FileOffset + segment.FileSize, Is.LessThanOrEqualTo((ulong)file.Length));
            if (i > 0) Assert.That(image.Segments[i - 1].End, Is.LessThanOrEqualTo(segment.VirtualAddress));
            if (segment.Executable && image.Entry >= segment.VirtualAddress && image.Entry < segment.End) entryFound = true;
        }
        Assert.That(entryFound, Is.True);
        return true;
    }
}
