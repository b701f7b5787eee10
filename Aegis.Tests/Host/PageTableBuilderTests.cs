using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class PageTableBuilderTests
{
    private const ulong KernelBase = 0xFFFF_FFFF_8000_0000;
    private const ulong UserAddress = 0x0000_0000_0040_0000;
    private const PageFlags KernelData = PageFlags.Writable | PageFlags.NoExecute;
    private const PageFlags UserData = PageFlags.Writable | PageFlags.User | PageFlags.NoExecute;

    private FakePageTableMemory _memory = null!;
    private PageTableBuilder _tables = null!;

    [SetUp]
    public void CreateTables()
    {
        _memory = new FakePageTableMemory();
        Assert.That(PageTableBuilder.TryCreate(_memory, out _tables), Is.True);
    }

    private ulong EntryPath(ulong virtualAddress, int level)
    {
        ulong table = _tables.RootPhysical;
        for (int l = 3; ; l--)
        {
            ulong entry = _memory.ReadEntry(table, (int)((virtualAddress >> (12 + 9 * l)) & 511));
            if (l == level) return entry;
            table = entry & 0x000F_FFFF_FFFF_F000;
        }
    }

    [Test]
    public void StartingOverGivesANewEmptyRootWithoutANewBuilder()
    {
        ulong first = _tables.RootPhysical;
        Assert.That(_tables.Map(0x400000, 0x5000, PageFlags.Present | PageFlags.Writable), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.TryStartOver(), Is.True);
        Assert.That(_tables.RootPhysical, Is.Not.EqualTo(first));
        Assert.That(_tables.TryTranslate(0x400000, out _, out _), Is.False);
        Assert.That(_tables.Map(0x400000, 0x6000, PageFlags.Present), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.TryTranslate(0x400000, out ulong physical, out _), Is.True);
        Assert.That(physical, Is.EqualTo(0x6000UL));
    }

    [Test]
    public void MappedPageTranslatesToItsFrame()
    {
        Assert.That(_tables.Map(KernelBase + 0x5000, 0x1234000, KernelData), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.TryTranslate(KernelBase + 0x5ABC, out ulong physical, out PageFlags flags), Is.True);
        Assert.That(physical, Is.EqualTo(0x1234ABCUL));
        Assert.That(flags, Is.EqualTo(PageFlags.Present | KernelData));
    }

    [Test]
    public void NeighbouringPageIsNotMapped()
    {
        _tables.Map(KernelBase + 0x5000, 0x1234000, KernelData);
        Assert.That(_tables.TryTranslate(KernelBase + 0x6000, out _, out _), Is.False);
        Assert.That(_tables.TryTranslate(KernelBase + 0x4FFF, out _, out _), Is.False);
    }

    [Test]
    public void IntermediateEntriesArePresentWritableAndNeverNoExecute()
    {
        _tables.Map(KernelBase, 0x200000, PageFlags.NoExecute);
        for (int level = 3; level >= 1; level--)
        {
            ulong entry = EntryPath(KernelBase, level);
            Assert.That(entry & 0xFFF, Is.EqualTo((ulong)(PageFlags.Present | PageFlags.Writable)), "level " + level);
            Assert.That(entry & (ulong)PageFlags.NoExecute, Is.Zero);
        }
        Assert.That(_memory.TableCount, Is.EqualTo(4));
    }

    [Test]
    public void UserPageMakesEveryIntermediateEntryUser()
    {
        _tables.Map(UserAddress, 0x300000, PageFlags.Writable);
        Assert.That(EntryPath(UserAddress, 3) & (ulong)PageFlags.User, Is.Zero);
        _tables.Map(UserAddress + 0x1000, 0x301000, UserData);
        for (int level = 3; level >= 1; level--)
            Assert.That(EntryPath(UserAddress, level) & (ulong)PageFlags.User, Is.Not.Zero, "level " + level);
        Assert.That(_tables.TryTranslate(UserAddress, out _, out PageFlags kernelFlags), Is.True);
        Assert.That(kernelFlags & PageFlags.User, Is.EqualTo(PageFlags.None), "the supervisor leaf stays supervisor");
    }

    [Test]
    public void SharedIntermediateTablesAreReused()
    {
        for (ulong i = 0; i < 512; i++)
            Assert.That(_tables.Map(KernelBase + i * 0x1000, 0x400000 + i * 0x1000, KernelData), Is.EqualTo(MapResult.Ok));
        Assert.That(_memory.TableCount, Is.EqualTo(4));
        _tables.Map(KernelBase + 512 * 0x1000, 0x800000, KernelData);
        Assert.That(_memory.TableCount, Is.EqualTo(5));
    }

    [Test]
    public void MappingOverAPresentPageIsRefused()
    {
        _tables.Map(KernelBase, 0x200000, KernelData);
        Assert.That(_tables.Map(KernelBase, 0x999000, PageFlags.Writable), Is.EqualTo(MapResult.AlreadyMapped));
        _tables.TryTranslate(KernelBase, out ulong physical, out PageFlags flags);
        Assert.That(physical, Is.EqualTo(0x200000UL));
        Assert.That(flags, Is.EqualTo(PageFlags.Present | KernelData));
    }

    [Test]
    public void NonCanonicalAddressesAreRefused()
    {
        Assert.That(_tables.Map(0x0000_8000_0000_0000, 0x1000, KernelData), Is.EqualTo(MapResult.NotCanonical));
        Assert.That(_tables.Map(0xFFFF_7FFF_FFFF_F000, 0x1000, KernelData), Is.EqualTo(MapResult.NotCanonical));
        Assert.That(_tables.MapLarge(0x1000_0000_0000_0000, 0x200000, KernelData), Is.EqualTo(MapResult.NotCanonical));
        Assert.That(_tables.Unmap(0x0000_8000_0000_0000, out _), Is.EqualTo(MapResult.NotCanonical));
        Assert.That(_tables.Protect(0x0000_8000_0000_0000, KernelData), Is.EqualTo(MapResult.NotCanonical));
        Assert.That(_tables.TryTranslate(0x0000_8000_0000_0000, out _, out _), Is.False);
        Assert.That(_memory.Writes, Is.Zero);
    }

    [Test]
    public void CanonicalEdgesAreAccepted()
    {
        Assert.That(_tables.Map(0x0000_7FFF_FFFF_F000, 0x1000, UserData), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.Map(0xFFFF_8000_0000_0000, 0x2000, KernelData), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.TryTranslate(0x0000_7FFF_FFFF_FFFF, out ulong low, out _), Is.True);
        Assert.That(_tables.TryTranslate(0xFFFF_8000_0000_0001, out ulong high, out _), Is.True);
        Assert.That(low, Is.EqualTo(0x1FFFUL));
        Assert.That(high, Is.EqualTo(0x2001UL));
    }

    [Test]
    public void MisalignedAddressesAreRefused()
    {
        Assert.That(_tables.Map(KernelBase + 0x10, 0x1000, KernelData), Is.EqualTo(MapResult.Misaligned));
        Assert.That(_tables.Map(KernelBase, 0x1001, KernelData), Is.EqualTo(MapResult.Misaligned));
        Assert.That(_tables.MapLarge(KernelBase + 0x1000, 0x200000, KernelData), Is.EqualTo(MapResult.Misaligned));
        Assert.That(_tables.MapLarge(KernelBase, 0x201000, KernelData), Is.EqualTo(MapResult.Misaligned));
        Assert.That(_tables.Unmap(KernelBase + 1, out _), Is.EqualTo(MapResult.Misaligned));
        Assert.That(_tables.Protect(KernelBase + 1, KernelData), Is.EqualTo(MapResult.Misaligned));
        Assert.That(_memory.Writes, Is.Zero);
    }

    [Test]
    public void PhysicalAddressesAbove52BitsAreRefused()
    {
        Assert.That(_tables.Map(KernelBase, 1UL << 52, KernelData), Is.EqualTo(MapResult.PhysicalAddressTooLarge));
        Assert.That(_tables.MapLarge(KernelBase, 0xFFFF_FFFF_FFE0_0000, KernelData), Is.EqualTo(MapResult.PhysicalAddressTooLarge));
        Assert.That(_tables.Map(KernelBase, (1UL << 52) - 0x1000, KernelData), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.TryTranslate(KernelBase + 0xFFF, out ulong physical, out _), Is.True);
        Assert.That(physical, Is.EqualTo((1UL << 52) - 1));
    }

    [Test]
    public void FlagBitsCannotReachTheAddress()
    {
        PageFlags hostile = (PageFlags)0x7FF0_0000_0000_F000 | PageFlags.Writable;
        Assert.That(_tables.Map(KernelBase, 0x5000, hostile), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.TryTranslate(KernelBase, out ulong physical, out PageFlags flags), Is.True);
        Assert.That(physical, Is.EqualTo(0x5000UL));
        Assert.That(flags, Is.EqualTo(PageFlags.Present | PageFlags.Writable));
    }

    [Test]
    public void LargeFlagIsIgnoredForSmallPages()
    {
        _tables.Map(KernelBase, 0x5000, PageFlags.Large | PageFlags.Writable);
        Assert.That(EntryPath(KernelBase, 0) & (ulong)PageFlags.Large, Is.Zero);
        Assert.That(_tables.TryTranslate(KernelBase, out _, out PageFlags flags), Is.True);
        Assert.That(flags & PageFlags.Large, Is.EqualTo(PageFlags.None));
    }

    [Test]
    public void LargePageTranslatesWithItsOffset()
    {
        Assert.That(_tables.MapLarge(KernelBase + 0x400000, 0x4000_0000, KernelData | PageFlags.Global), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.TryTranslate(KernelBase + 0x5ABCDE, out ulong physical, out PageFlags flags), Is.True);
        Assert.That(physical, Is.EqualTo(0x401ABCDEUL));
        Assert.That(flags, Is.EqualTo(PageFlags.Present | PageFlags.Large | PageFlags.Global | KernelData));
        Assert.That(_memory.TableCount, Is.EqualTo(3), "no page table under a large page");
    }

    [Test]
    public void SmallPageInsideALargePageConflicts()
    {
        _tables.MapLarge(KernelBase, 0x200000, KernelData);
        int writes = _memory.Writes;
        Assert.That(_tables.Map(KernelBase + 0x3000, 0x9000, KernelData), Is.EqualTo(MapResult.ConflictsWithLargePage));
        Assert.That(_memory.Writes, Is.EqualTo(writes));
    }

    [Test]
    public void LargePageOverAPageTableConflicts()
    {
        _tables.Map(KernelBase + 0x3000, 0x9000, KernelData);
        Assert.That(_tables.MapLarge(KernelBase, 0x200000, KernelData), Is.EqualTo(MapResult.ConflictsWithLargePage));
        _tables.Unmap(KernelBase + 0x3000, out _);
        Assert.That(_tables.MapLarge(KernelBase, 0x200000, KernelData), Is.EqualTo(MapResult.ConflictsWithLargePage), "even an emptied page table stays");
    }

    [Test]
    public void LargePageOverALargePageIsAlreadyMapped()
    {
        _tables.MapLarge(KernelBase, 0x200000, KernelData);
        Assert.That(_tables.MapLarge(KernelBase, 0x400000, KernelData), Is.EqualTo(MapResult.AlreadyMapped));
    }

    [Test]
    public void HugePageIsTranslatedAndBlocksSmallerMappings()
    {
        const ulong hugeVirtual = 0x0000_0040_0000_0000; // PML4 index 0, PDPT index 256
        _tables.Map(hugeVirtual - 0x4000_0000, 0x1000, KernelData); // creates the PDPT
        ulong lowPdpt = EntryPath(hugeVirtual - 0x4000_0000, 3) & 0x000F_FFFF_FFFF_F000;
        _memory.WriteEntry(lowPdpt, (int)((hugeVirtual >> 30) & 511),
            0x8000_0000UL | (ulong)(PageFlags.Present | PageFlags.Writable | PageFlags.Large));

        Assert.That(_tables.TryTranslate(hugeVirtual + 0x1234_5678, out ulong physical, out PageFlags flags), Is.True);
        Assert.That(physical, Is.EqualTo(0x8000_0000UL + 0x1234_5678));
        Assert.That(flags, Is.EqualTo(PageFlags.Present | PageFlags.Writable | PageFlags.Large));
        Assert.That(_tables.Map(hugeVirtual + 0x1000, 0x1000, KernelData), Is.EqualTo(MapResult.ConflictsWithLargePage));
        Assert.That(_tables.MapLarge(hugeVirtual + 0x20_0000, 0x20_0000, KernelData), Is.EqualTo(MapResult.ConflictsWithLargePage));
        Assert.That(_tables.Unmap(hugeVirtual + 0x1000, out _), Is.EqualTo(MapResult.Misaligned));
        Assert.That(_tables.Unmap(hugeVirtual, out ulong previous), Is.EqualTo(MapResult.Ok));
        Assert.That(previous & 0x000F_FFFF_C000_0000, Is.EqualTo(0x8000_0000UL));
    }

    [Test]
    public void OutOfMemoryMapsNothing()
    {
        _memory.TablesLeft = 2;
        Assert.That(_tables.Map(KernelBase, 0x5000, KernelData), Is.EqualTo(MapResult.OutOfMemory));
        Assert.That(_tables.TryTranslate(KernelBase, out _, out _), Is.False);
        _memory.TablesLeft = 1;
        Assert.That(_tables.Map(KernelBase, 0x5000, KernelData), Is.EqualTo(MapResult.Ok), "the tables made before running out are reused");
        Assert.That(_tables.TryTranslate(KernelBase, out ulong physical, out _), Is.True);
        Assert.That(physical, Is.EqualTo(0x5000UL));
    }

    [Test]
    public void CreatingWithoutMemoryFails()
    {
        FakePageTableMemory empty = new() { TablesLeft = 0 };
        Assert.That(PageTableBuilder.TryCreate(empty, out PageTableBuilder builder), Is.False);
        Assert.That(builder, Is.Null);
    }

    [Test]
    public void UnmapReturnsThePreviousEntryAndRemovesTheMapping()
    {
        _tables.Map(KernelBase, 0x5000, KernelData);
        Assert.That(_tables.Unmap(KernelBase, out ulong previous), Is.EqualTo(MapResult.Ok));
        Assert.That(previous, Is.EqualTo(0x5000UL | (ulong)(PageFlags.Present | KernelData)));
        Assert.That(_tables.TryTranslate(KernelBase, out _, out _), Is.False);
        Assert.That(_tables.Map(KernelBase, 0x6000, KernelData), Is.EqualTo(MapResult.Ok), "the slot can be reused");
    }

    [Test]
    public void UnmappingWhatIsNotMappedReportsNotMapped()
    {
        Assert.That(_tables.Unmap(KernelBase, out ulong previous), Is.EqualTo(MapResult.NotMapped));
        Assert.That(previous, Is.Zero);
        _tables.Map(KernelBase, 0x5000, KernelData);
        Assert.That(_tables.Unmap(KernelBase + 0x1000, out _), Is.EqualTo(MapResult.NotMapped));
        Assert.That(_tables.Unmap(KernelBase - 0x4000_0000, out _), Is.EqualTo(MapResult.NotMapped));
    }

    [Test]
    public void LargePageIsUnmappedByItsFirstAddressOnly()
    {
        _tables.MapLarge(KernelBase, 0x200000, KernelData);
        Assert.That(_tables.Unmap(KernelBase + 0x1000, out _), Is.EqualTo(MapResult.Misaligned));
        Assert.That(_tables.Unmap(KernelBase, out ulong previous), Is.EqualTo(MapResult.Ok));
        Assert.That(previous & (ulong)PageFlags.Large, Is.Not.Zero);
        Assert.That(_tables.TryTranslate(KernelBase + 0x1000, out _, out _), Is.False);
    }

    [Test]
    public void ProtectReplacesFlagsAndKeepsTheFrame()
    {
        _tables.Map(KernelBase, 0x5000, PageFlags.Writable | PageFlags.Dirty);
        Assert.That(_tables.Protect(KernelBase, PageFlags.NoExecute), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.TryTranslate(KernelBase, out ulong physical, out PageFlags flags), Is.True);
        Assert.That(physical, Is.EqualTo(0x5000UL));
        Assert.That(flags, Is.EqualTo(PageFlags.Present | PageFlags.NoExecute));
    }

    [Test]
    public void ProtectKeepsALargePageLarge()
    {
        _tables.MapLarge(KernelBase, 0x600000, PageFlags.Writable);
        Assert.That(_tables.Protect(KernelBase, PageFlags.None), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.TryTranslate(KernelBase + 0x12345, out ulong physical, out PageFlags flags), Is.True);
        Assert.That(physical, Is.EqualTo(0x612345UL));
        Assert.That(flags, Is.EqualTo(PageFlags.Present | PageFlags.Large));
    }

    [Test]
    public void ProtectToUserOpensThePath()
    {
        _tables.Map(UserAddress, 0x5000, PageFlags.Writable);
        Assert.That(_tables.Protect(UserAddress, UserData), Is.EqualTo(MapResult.Ok));
        Assert.That(_tables.TryTranslate(UserAddress, out _, out PageFlags flags), Is.True);
        Assert.That(flags & PageFlags.User, Is.EqualTo(PageFlags.User));
    }

    [Test]
    public void ProtectingWhatIsNotMappedReportsNotMapped()
    {
        Assert.That(_tables.Protect(KernelBase, KernelData), Is.EqualTo(MapResult.NotMapped));
        Assert.That(_memory.Writes, Is.Zero);
    }

    [Test]
    public void TranslationReportsEffectivePermissions()
    {
        _tables.Map(UserAddress, 0x5000, UserData & ~PageFlags.NoExecute);
        ulong pd = EntryPath(UserAddress, 2) & 0x000F_FFFF_FFFF_F000;
        int index = (int)((UserAddress >> 21) & 511);
        ulong pdEntry = _memory.ReadEntry(pd, index);
        _memory.WriteEntry(pd, index, (pdEntry & ~(ulong)PageFlags.Writable) | (ulong)PageFlags.NoExecute);

        Assert.That(_tables.TryTranslate(UserAddress, out _, out PageFlags flags), Is.True);
        Assert.That(flags & PageFlags.Writable, Is.EqualTo(PageFlags.None), "a read-only level makes the page read-only");
        Assert.That(flags & PageFlags.NoExecute, Is.EqualTo(PageFlags.NoExecute), "a no-execute level makes the page no-execute");
        Assert.That(flags & PageFlags.User, Is.EqualTo(PageFlags.User));
    }

    [Test]
    public void RandomMapUnmapAgreesWithAModel()
    {
        Random random = new(31337);
        Dictionary<ulong, ulong> model = new();
        for (int step = 0; step < 5000; step++)
        {
            ulong page = KernelBase + (ulong)random.Next(0, 4096) * 0x1000;
            ulong frame = (ulong)random.Next(1, 1 << 20) * 0x1000;
            if (random.Next(3) != 0)
            {
                MapResult result = _tables.Map(page, frame, KernelData);
                Assert.That(result, Is.EqualTo(model.ContainsKey(page) ? MapResult.AlreadyMapped : MapResult.Ok));
                if (result == MapResult.Ok) model[page] = frame;
            }
            else
            {
                MapResult result = _tables.Unmap(page, out ulong previous);
                Assert.That(result, Is.EqualTo(model.ContainsKey(page) ? MapResult.Ok : MapResult.NotMapped));
                if (result == MapResult.Ok)
                {
                    Assert.That(previous & 0x000F_FFFF_FFFF_F000, Is.EqualTo(model[page]));
                    model.Remove(page);
                }
            }
        }
        for (ulong i = 0; i < 4096; i++)
        {
            ulong page = KernelBase + i * 0x1000;
            bool mapped = _tables.TryTranslate(page + 7, out ulong physical, out _);
            Assert.That(mapped, Is.EqualTo(model.ContainsKey(page)));
            if (mapped) Assert.That(physical, Is.EqualTo(model[page] + 7));
        }
    }
}
