using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class ReadOnlyListViewTests
{
    [Test]
    public void ViewShowsTheListInOrder()
    {
        List<int> list = new() { 3, 1, 2 };
        ReadOnlyListView<int> view = new(list);
        Assert.That(view.Count, Is.EqualTo(3));
        Assert.That(view[1], Is.EqualTo(1));
        Assert.That(view, Is.EqualTo(new[] { 3, 1, 2 }));
    }

    [Test]
    public void ForeachOverAViewAllocatesNothing()
    {
        List<long> list = new() { 1, 2, 3, 4 };
        ReadOnlyListView<long> view = new(list);
        long sum = 0;
        foreach (long item in view) sum += item; // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (long item in view) sum += item;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero);
        Assert.That(sum, Is.EqualTo(20));
    }

    [Test]
    public void ViewIsAReadOnlyListForCodeThatWantsOne()
    {
        IReadOnlyList<string> list = new ReadOnlyListView<string>(new List<string> { "a", "b" });
        Assert.That(list.Count, Is.EqualTo(2));
        Assert.That(list[1], Is.EqualTo("b"));
        Assert.That(string.Join(",", list), Is.EqualTo("a,b"));
    }

    [Test]
    public void ParsedMapPlansWithoutBoxing()
    {
        Assert.That(Multiboot2Info.TryParse(Multiboot2ImageBuilder.QemuLike().Build(), out Multiboot2Info info, out _), Is.True);
        PhysicalMemoryPlan fromView = PhysicalMemoryPlan.Create(info.MemoryMap, new List<PhysicalRange>());
        PhysicalMemoryPlan fromList = PhysicalMemoryPlan.Create((IReadOnlyList<MemoryRegion>)info.MemoryMap, new List<PhysicalRange>());
        Assert.That(fromView.UsableBytes, Is.EqualTo(fromList.UsableBytes));
        Assert.That(fromView.UsableRanges, Is.EqualTo(fromList.UsableRanges));
    }
}
