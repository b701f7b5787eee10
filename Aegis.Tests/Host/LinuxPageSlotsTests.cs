// PageSlots (LibOS.Unixish/Linux/PageSlots.cs): ProgramPages' two-level table of pages, checked
// against a Dictionary and a sorted walk doing the same operations.
using Aegis.LibOS.Unixish.Linux;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class LinuxPageSlotsTests
{
    private const ulong Page = 4096, Region = 2UL << 20;

    [Test]
    public void SetGetRemoveAndCountMatchADictionary()
    {
        var slots = new PageSlots();
        var model = new Dictionary<ulong, ulong>();
        var random = new Random(9);
        // Pages in a few clusters far apart (the program, the heap, the stack, an mmap), values
        // including 0 (mapped) and frame + 1 (parked).
        ulong[] bases = { 0x400000, 0x5555_5540_0000, 0x7FF_FF00_0000, 0x7F00_0000_0000 - Region / 2 };
        for (int step = 0; step < 20000; step++)
        {
            ulong page = bases[random.Next(bases.Length)] + (ulong)random.Next(2048) * Page;
            switch (random.Next(4))
            {
                case 0:
                case 1:
                    ulong value = random.Next(3) == 0 ? 0 : (ulong)random.Next(1, 1 << 30);
                    slots[page] = value;
                    model[page] = value;
                    break;
                case 2:
                    Assert.That(slots.Remove(page), Is.EqualTo(model.Remove(page)), $"Remove({page:x})");
                    break;
                default:
                    Assert.That(slots.TryGetValue(page, out ulong got), Is.EqualTo(model.TryGetValue(page, out ulong expected)), $"TryGetValue({page:x})");
                    Assert.That(got, Is.EqualTo(expected));
                    Assert.That(slots.Contains(page), Is.EqualTo(model.ContainsKey(page)));
                    break;
            }
            Assert.That(slots.Count, Is.EqualTo(model.Count));
        }
        foreach (ulong start in bases)
        {
            ulong end = start + 2048 * Page;
            var collected = new List<ulong>();
            slots.Collect(start, end, collected);
            var expected = new List<ulong>();
            foreach (KeyValuePair<ulong, ulong> entry in model)
                if (entry.Key >= start && entry.Key < end) expected.Add(entry.Key);
            expected.Sort();
            Assert.That(collected, Is.EqualTo(expected), $"Collect from {start:x}");
        }
    }

    /// <summary>The run operations (exec's and munmap's loops) against a Dictionary doing the same:
    /// SetRange and RemoveRange across region boundaries, NextFilled's runs (a parked page alone,
    /// else consecutive mapped pages of one region) and NextEmpty's (the gaps), which together
    /// cover every page of the range exactly once.</summary>
    [Test]
    public void RunsMatchADictionary()
    {
        var slots = new PageSlots();
        var model = new Dictionary<ulong, ulong>();
        var random = new Random(17);
        ulong[] bases = { 0x400000, 0x7F00_0000_0000 - Region / 2, 0x10_0000_0000 };
        for (int step = 0; step < 3000; step++)
        {
            ulong start = bases[random.Next(bases.Length)] + (ulong)random.Next(1500) * Page;
            int pages = random.Next(1, 700);
            switch (random.Next(5))
            {
                case 0:
                case 1:
                    ulong value = random.Next(4) == 0 ? (ulong)random.Next(1, 1000) : 0;
                    slots.SetRange(start, pages, value);
                    for (int i = 0; i < pages; i++) model[start + (ulong)i * Page] = value;
                    break;
                case 2:
                    slots.RemoveRange(start, pages);
                    for (int i = 0; i < pages; i++) model.Remove(start + (ulong)i * Page);
                    break;
                case 3:
                    slots[start] = (ulong)random.Next(0, 5);
                    model[start] = slots[start];
                    break;
                default:
                    ulong end = start + (ulong)pages * Page;
                    var filled = new List<(ulong, int, ulong)>();
                    ulong at = start;
                    while (slots.NextFilled(ref at, end, out ulong run, out int count, out ulong parked)) filled.Add((run, count, parked));
                    var empty = new List<(ulong, int)>();
                    at = start;
                    while (slots.NextEmpty(ref at, end, out ulong run, out int count)) empty.Add((run, count));
                    var seen = new HashSet<ulong>();
                    foreach ((ulong run, int count, ulong parked) in filled)
                    {
                        Assert.That(parked == 0 || count == 1, Is.True, "a parked page is a run of its own");
                        Assert.That(run / Region, Is.EqualTo((run + (ulong)(count - 1) * Page) / Region), "a run stays in one region");
                        for (int i = 0; i < count; i++)
                        {
                            ulong page = run + (ulong)i * Page;
                            Assert.That(model.TryGetValue(page, out ulong v) && v == parked, Is.True, $"filled page {page:x}");
                            Assert.That(seen.Add(page), Is.True);
                        }
                    }
                    foreach ((ulong run, int count) in empty)
                        for (int i = 0; i < count; i++)
                        {
                            ulong page = run + (ulong)i * Page;
                            Assert.That(model.ContainsKey(page), Is.False, $"empty page {page:x}");
                            Assert.That(seen.Add(page), Is.True);
                        }
                    Assert.That(seen.Count, Is.EqualTo(pages), "every page of the range once");
                    for (int i = 1; i < filled.Count; i++)
                        Assert.That(filled[i].Item1, Is.GreaterThan(filled[i - 1].Item1), "ascending");
                    break;
            }
            Assert.That(slots.Count, Is.EqualTo(model.Count), $"Count after step {step}");
        }
    }

    [Test]
    public void NextFilledSkipsAHugeEmptyRangeToTheFewPages()
    {
        var slots = new PageSlots();
        slots.SetRange(0x7F00_0000_0000, 3, 0);
        slots[0x10_0000_0000] = 5;
        var runs = new List<(ulong, int, ulong)>();
        ulong at = 0x400000;
        while (slots.NextFilled(ref at, 0x7FFF_FFFF_F000, out ulong run, out int count, out ulong parked)) runs.Add((run, count, parked));
        Assert.That(runs, Is.EqualTo(new[] { (0x10_0000_0000UL, 1, 5UL), (0x7F00_0000_0000UL, 3, 0UL) }));
    }

    [Test]
    public void CollectOverAHugeRangeFindsTheFewPagesInOrder()
    {
        var slots = new PageSlots();
        ulong[] pages = { 0x7F00_0000_0000, 0x10_0000_0000, 0x10_0000_1000, 0x400000, 0x7F00_0020_0000 + 5 * Page };
        foreach (ulong page in pages) slots.Set(page, 7);
        var collected = new List<ulong>();
        slots.Collect(0x1000, 0x7FFF_FFFF_F000, collected);
        Assert.That(collected, Is.EqualTo(pages.OrderBy(p => p).ToList()));
        collected.Clear();
        slots.Collect(0x10_0000_1000, 0x10_0000_2000, collected);
        Assert.That(collected, Is.EqualTo(new[] { 0x10_0000_1000UL }), "a one-page range inside a region");
        collected.Clear();
        slots.Collect(0x10_0000_2000, 0x10_0000_2000, collected);
        Assert.That(collected, Is.Empty, "an empty range");
    }

    [Test]
    public void ManyEmptiedRegionsLeaveNothingBehind()
    {
        var slots = new PageSlots();
        for (int round = 0; round < 3; round++)
        {
            for (ulong r = 0; r < 40; r++) slots.Set(0x4000_0000 + r * Region + Page, r);
            Assert.That(slots.Count, Is.EqualTo(40));
            for (ulong r = 0; r < 40; r++) Assert.That(slots.Remove(0x4000_0000 + r * Region + Page), Is.True);
            Assert.That(slots.Count, Is.Zero);
            var collected = new List<ulong>();
            slots.Collect(0x1000, 0x7FFF_FFFF_F000, collected);
            Assert.That(collected, Is.Empty, $"round {round}: PageSlots.KeptEmpty regions stay, without pages");
        }
    }

    [Test]
    public void ARegionEmptiedIsForgottenAndComesBack()
    {
        var slots = new PageSlots();
        slots.Set(0x400000, 0);
        Assert.That(slots.Remove(0x400000), Is.True);
        Assert.That(slots.Remove(0x400000), Is.False);
        Assert.That(slots.Contains(0x400000), Is.False, "the emptied page has no value");
        slots.Set(0x401000, 3);
        Assert.That(slots[0x401000], Is.EqualTo(3UL));
        Assert.That(slots.Count, Is.EqualTo(1));
    }
}
