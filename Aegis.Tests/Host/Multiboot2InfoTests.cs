using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class Multiboot2InfoTests
{
    private static Multiboot2Info ParseOk(byte[] image)
    {
        bool ok = Multiboot2Info.TryParse(image, out Multiboot2Info info, out string error);
        Assert.That(error, Is.Null, "error");
        Assert.That(ok, Is.True);
        return info;
    }

    private static string ParseError(byte[] image)
    {
        bool ok = Multiboot2Info.TryParse(image, out Multiboot2Info info, out string error);
        Assert.That(ok, Is.False);
        Assert.That(info, Is.Null);
        Assert.That(error, Does.StartWith("multiboot2: "));
        return error;
    }

    [Test]
    public void QemuLikeImageYieldsEveryTag()
    {
        Multiboot2Info info = ParseOk(Multiboot2ImageBuilder.QemuLike().Build());

        Assert.That(info.CommandLine, Is.EqualTo("/boot/aegis.elf test=runtime"));
        Assert.That(info.BootLoaderName, Is.EqualTo("GRUB 2.06"));
        Assert.That(info.HasBasicMemoryInfo, Is.True);
        Assert.That(info.LowerMemoryKilobytes, Is.EqualTo(639u));
        Assert.That(info.UpperMemoryKilobytes, Is.EqualTo(129920u));
        Assert.That(info.Modules, Has.Count.EqualTo(1));
        Assert.That(info.Modules[0].Start, Is.EqualTo(0x200000u));
        Assert.That(info.Modules[0].End, Is.EqualTo(0x201000u));
        Assert.That(info.Modules[0].Length, Is.EqualTo(0x1000u));
        Assert.That(info.Modules[0].CommandLine, Is.EqualTo("/boot/aegis.sym"));
        Assert.That(info.MemoryMap, Has.Count.EqualTo(6));
        Assert.That(info.MemoryMap[3].Base, Is.EqualTo(0x100000UL));
        Assert.That(info.MemoryMap[3].Length, Is.EqualTo(0x7EE0000UL));
        Assert.That(info.MemoryMap[3].End, Is.EqualTo(0x7FE0000UL));
        Assert.That(info.MemoryMap[3].Kind, Is.EqualTo(MemoryRegionKind.Available));
        Assert.That(info.MemoryMap[1].Kind, Is.EqualTo(MemoryRegionKind.Reserved));
    }

    [Test]
    public void TotalSizeComesFromTheHeaderNotTheSpan()
    {
        byte[] image = Multiboot2ImageBuilder.QemuLike().Build(trailingBytes: 64);
        Multiboot2Info info = ParseOk(image);
        Assert.That(info.TotalSize, Is.EqualTo((uint)(image.Length - 64)));
    }

    [Test]
    public void BytesAfterTheEndTagAreIgnored()
    {
        byte[] image = new Multiboot2ImageBuilder().MemoryMap((0x100000, 0x100000, 1)).End()
            .Tag(6, new byte[] { 1, 2, 3 }, sizeField: 4).Build();
        Assert.That(ParseOk(image).MemoryMap, Has.Count.EqualTo(1));
    }

    [Test]
    public void MissingOptionalTagsGiveEmptyDefaults()
    {
        Multiboot2Info info = ParseOk(new Multiboot2ImageBuilder().MemoryMap((0x100000, 0x100000, 1)).Build());
        Assert.That(info.CommandLine, Is.EqualTo(""));
        Assert.That(info.BootLoaderName, Is.EqualTo(""));
        Assert.That(info.HasBasicMemoryInfo, Is.False);
        Assert.That(info.Modules, Is.Empty);
    }

    [Test]
    public void MemoryTypesMapToKinds()
    {
        Multiboot2Info info = ParseOk(new Multiboot2ImageBuilder().MemoryMap(
            (0x0, 0x1000, 1), (0x1000, 0x1000, 2), (0x2000, 0x1000, 3), (0x3000, 0x1000, 4),
            (0x4000, 0x1000, 5), (0x5000, 0x1000, 77)).Build());
        Assert.That(info.MemoryMap[0].Kind, Is.EqualTo(MemoryRegionKind.Available));
        Assert.That(info.MemoryMap[1].Kind, Is.EqualTo(MemoryRegionKind.Reserved));
        Assert.That(info.MemoryMap[2].Kind, Is.EqualTo(MemoryRegionKind.AcpiReclaimable));
        Assert.That(info.MemoryMap[3].Kind, Is.EqualTo(MemoryRegionKind.AcpiNvs));
        Assert.That(info.MemoryMap[4].Kind, Is.EqualTo(MemoryRegionKind.BadRam));
        Assert.That(info.MemoryMap[5].Kind, Is.EqualTo(MemoryRegionKind.Reserved));
        Assert.That(info.MemoryMap[5].Type, Is.EqualTo(77u));
        Assert.That(info.MemoryMap[0].IsAvailable, Is.True);
        Assert.That(info.MemoryMap[5].IsAvailable, Is.False);
    }

    [Test]
    public void ZeroLengthEntriesAreSkipped()
    {
        Multiboot2Info info = ParseOk(new Multiboot2ImageBuilder().MemoryMap(
            (0x0, 0x1000, 1), (0x5000, 0, 1), (0x100000, 0x1000, 1)).Build());
        Assert.That(info.MemoryMap, Has.Count.EqualTo(2));
        Assert.That(info.MemoryMap[1].Base, Is.EqualTo(0x100000UL));
    }

    [Test]
    public void LargerEntrySizeIsHonoured()
    {
        Multiboot2Info info = ParseOk(new Multiboot2ImageBuilder().MemoryMap(32,
            (0x0, 0x1000, 1), (0x100000, 0x2000, 3)).Build());
        Assert.That(info.MemoryMap, Has.Count.EqualTo(2));
        Assert.That(info.MemoryMap[1].Length, Is.EqualTo(0x2000UL));
        Assert.That(info.MemoryMap[1].Type, Is.EqualTo(3u));
    }

    [Test]
    public void OverlappingEntriesAreKeptForThePlanToResolve()
    {
        Multiboot2Info info = ParseOk(new Multiboot2ImageBuilder().MemoryMap(
            (0x100000, 0x100000, 1), (0x180000, 0x10000, 2)).Build());
        Assert.That(info.MemoryMap, Has.Count.EqualTo(2));
    }

    [Test]
    public void EntryEndingAtTheTopOfTheAddressSpaceIsAccepted()
    {
        Multiboot2Info info = ParseOk(new Multiboot2ImageBuilder().MemoryMap(
            (0x100000, 0x1000, 1), (0xFFFF_FFFF_FFFF_F000, 0xFFF, 2)).Build());
        Assert.That(info.MemoryMap[1].End, Is.EqualTo(ulong.MaxValue));
    }

    [Test]
    public void CommandLineWithoutNulIsReadToTheTagEnd()
    {
        byte[] image = new Multiboot2ImageBuilder().Tag(1, "abc"u8.ToArray()).MemoryMap((0x100000, 0x1000, 1)).Build();
        Assert.That(ParseOk(image).CommandLine, Is.EqualTo("abc"));
    }

    [Test]
    public void UnknownTagsAreSkipped()
    {
        byte[] image = new Multiboot2ImageBuilder().Tag(21, new byte[4]).Tag(8, new byte[30])
            .MemoryMap((0x100000, 0x1000, 1)).Build();
        Assert.That(ParseOk(image).MemoryMap, Has.Count.EqualTo(1));
    }

    [Test]
    public void SpanShorterThanTheHeaderIsRejected()
    {
        Assert.That(ParseError(new byte[5]), Does.Contain("shorter than its 8-byte header"));
        Assert.That(ParseError([]), Does.Contain("0 bytes"));
    }

    [Test]
    public void TotalSizeBelowSixteenIsRejected()
    {
        byte[] image = Multiboot2ImageBuilder.QemuLike().Build(totalSize: 12);
        Assert.That(ParseError(image), Does.Contain("total_size 12 is smaller than 16").And.Contain("offset 0x0"));
    }

    [Test]
    public void TotalSizeLargerThanTheSpanIsRejected()
    {
        byte[] image = Multiboot2ImageBuilder.QemuLike().Build();
        byte[] truncated = image.AsSpan(0, image.Length - 8).ToArray();
        Assert.That(ParseError(truncated), Does.Contain("is larger than the " + truncated.Length + " bytes available"));
    }

    [Test]
    public void TruncatedImageIsRejectedAtEveryLength()
    {
        byte[] image = Multiboot2ImageBuilder.QemuLike().Build();
        for (int length = 0; length < image.Length; length++)
        {
            bool ok = Multiboot2Info.TryParse(image.AsSpan(0, length), out _, out string error);
            Assert.That(ok, Is.False, "length " + length);
            Assert.That(error, Is.Not.Null.And.Not.Empty);
        }
    }

    [Test]
    public void TagSmallerThanItsHeaderIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().Tag(21, new byte[8], sizeField: 4).MemoryMap((0x100000, 0x1000, 1)).Build();
        Assert.That(ParseError(image), Does.Contain("tag type 21 has size 4, less than 8").And.Contain("offset 0x8"));
    }

    [Test]
    public void TagRunningPastTotalSizeIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().MemoryMap((0x100000, 0x1000, 1)).Tag(21, new byte[8], sizeField: 4096).Build();
        Assert.That(ParseError(image), Does.Contain("tag type 21 has size 4096, running past total_size").And.Contain("offset 0x30"));
    }

    [Test]
    public void HugeTagSizeDoesNotOverflow()
    {
        byte[] image = new Multiboot2ImageBuilder().Tag(21, new byte[8], sizeField: uint.MaxValue).MemoryMap((0x100000, 0x1000, 1)).Build();
        Assert.That(ParseError(image), Does.Contain("running past total_size"));
    }

    [Test]
    public void MissingEndTagIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().MemoryMap((0x100000, 0x1000, 1)).Build(withEnd: false);
        Assert.That(ParseError(image), Does.Contain("no end tag"));
    }

    [Test]
    public void TagHeaderCutByTotalSizeIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().MemoryMap((0x100000, 0x1000, 1)).Build(withEnd: false, trailingBytes: 4);
        Multiboot2ImageBuilder.WriteUInt32(image, 0, (uint)image.Length);
        Assert.That(ParseError(image), Does.Contain("tag header runs past total_size"));
    }

    [Test]
    public void MissingMemoryMapIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().CommandLine("x").Build();
        Assert.That(ParseError(image), Does.Contain("no memory map (tag type 6)"));
    }

    [Test]
    public void MemoryMapWithOnlyEmptyEntriesIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().MemoryMap((0x100000, 0, 1)).Build();
        Assert.That(ParseError(image), Does.Contain("no non-empty entry"));
    }

    [Test]
    public void SecondMemoryMapIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().MemoryMap((0x100000, 0x1000, 1)).MemoryMap((0x200000, 0x1000, 1)).Build();
        Assert.That(ParseError(image), Does.Contain("a second memory map"));
    }

    [TestCase(0u)]
    [TestCase(16u)]
    [TestCase(20u)]
    [TestCase(28u)]
    public void BadEntrySizeIsRejected(uint entrySize)
    {
        byte[] payload = new byte[8 + 48];
        Multiboot2ImageBuilder.WriteUInt32(payload, 0, entrySize);
        byte[] image = new Multiboot2ImageBuilder().Tag(6, payload).Build();
        Assert.That(ParseError(image), Does.Contain("entry_size " + entrySize + " is not a multiple of 8 of at least 24").And.Contain("offset 0x8"));
    }

    [Test]
    public void MemoryMapTagTooShortForItsHeaderIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().Tag(6, new byte[4]).Build();
        Assert.That(ParseError(image), Does.Contain("memory map tag is 12 bytes, less than 16"));
    }

    [Test]
    public void PartialEntryIsRejected()
    {
        byte[] payload = new byte[8 + 24 + 8];
        Multiboot2ImageBuilder.WriteUInt32(payload, 0, 24);
        Multiboot2ImageBuilder.WriteUInt64(payload, 16, 0x1000);
        Multiboot2ImageBuilder.WriteUInt32(payload, 24, 1);
        byte[] image = new Multiboot2ImageBuilder().Tag(6, payload).Build();
        Assert.That(ParseError(image), Does.Contain("32 bytes of entries, not a whole number of 24-byte entries"));
    }

    [Test]
    public void EntryOverflowingSixtyFourBitsIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().MemoryMap(
            (0x100000, 0x1000, 1), (0xFFFF_FFFF_FFFF_F000, 0x1000, 2)).Build();
        Assert.That(ParseError(image), Does.Contain("memory map entry 1 (base 0xFFFFFFFFFFFFF000, length 0x1000) runs past the top")
            .And.Contain("offset 0x30"));
    }

    [Test]
    public void ModuleEndingBeforeItStartsIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().Module(0x300000, 0x200000, "bad").MemoryMap((0x100000, 0x1000, 1)).Build();
        Assert.That(ParseError(image), Does.Contain("module ends (0x200000) before it starts (0x300000)").And.Contain("offset 0x8"));
    }

    [Test]
    public void ModuleTagTooShortIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().Tag(3, new byte[4]).MemoryMap((0x100000, 0x1000, 1)).Build();
        Assert.That(ParseError(image), Does.Contain("module tag is 12 bytes"));
    }

    [Test]
    public void BasicMemoryInfoTagTooShortIsRejected()
    {
        byte[] image = new Multiboot2ImageBuilder().Tag(4, new byte[4]).MemoryMap((0x100000, 0x1000, 1)).Build();
        Assert.That(ParseError(image), Does.Contain("basic memory information tag is 12 bytes"));
    }

    [Test]
    public void RandomCorruptionNeverThrows()
    {
        byte[] original = Multiboot2ImageBuilder.QemuLike().Build();
        Random random = new(1234);
        for (int round = 0; round < 20000; round++)
        {
            byte[] image = (byte[])original.Clone();
            int flips = random.Next(1, 6);
            for (int i = 0; i < flips; i++)
                image[random.Next(image.Length)] = (byte)random.Next(256);
            int length = random.Next(4) == 0 ? random.Next(image.Length + 1) : image.Length;
            bool ok = Multiboot2Info.TryParse(image.AsSpan(0, length), out Multiboot2Info info, out string error);
            Assert.That(ok ? info != null && error == null : info == null && error != null, Is.True);
            if (ok)
            {
                Assert.That(info.MemoryMap.Count, Is.GreaterThan(0));
                foreach (MemoryRegion region in info.MemoryMap)
                    Assert.That(region.Length, Is.GreaterThan(0UL).And.LessThanOrEqualTo(ulong.MaxValue - region.Base));
            }
        }
    }

    [Test]
    public void RandomBytesNeverThrow()
    {
        Random random = new(99);
        for (int round = 0; round < 20000; round++)
        {
            byte[] image = new byte[random.Next(0, 200)];
            random.NextBytes(image);
            if (image.Length >= 4 && random.Next(2) == 0)
                Multiboot2ImageBuilder.WriteUInt32(image, 0, (uint)random.Next(0, image.Length + 1));
            Multiboot2Info.TryParse(image, out _, out _);
        }
    }
}
