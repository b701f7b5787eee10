// The slice vector: slices are allocated by number or any, freed only by their owner, and the
// timer walks them round robin over runnable owners.
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using NUnit.Framework;

namespace Aegis.Tests.Host.Exo;

public class SliceVectorTests
{
    private const ulong Alice = 0x401, Bob = 0x402, Carol = 0x403;

    [Test]
    public void AnySliceTakesTheLowestFree()
    {
        SliceVector slices = new(8);
        Assert.That(slices.Allocate(Alice, SystemCallLimits.AnySlice, out int first), Is.EqualTo(Error.None));
        Assert.That(slices.Allocate(Bob, SystemCallLimits.AnySlice, out int second), Is.EqualTo(Error.None));
        Assert.That((first, second), Is.EqualTo((0, 1)));
        Assert.That(slices.OwnerOf(0), Is.EqualTo(Alice));
        Assert.That(slices.FreeCount, Is.EqualTo(6));
    }

    [Test]
    public void NamedSliceIsGivenOrBusy()
    {
        SliceVector slices = new(8);
        Assert.That(slices.Allocate(Alice, 5, out int index), Is.EqualTo(Error.None));
        Assert.That(index, Is.EqualTo(5));
        Assert.That(slices.Allocate(Bob, 5, out index), Is.EqualTo(Error.Busy));
        Assert.That(index, Is.EqualTo(-1));
        Assert.That(slices.Allocate(Alice, 5, out _), Is.EqualTo(Error.Busy), "even for its owner");
    }

    [TestCase(8UL)]
    [TestCase(1UL << 32)]
    [TestCase(ulong.MaxValue - 1)]
    public void SlicePastTheVectorIsInvalidArgument(ulong index)
    {
        SliceVector slices = new(8);
        Assert.That(slices.Allocate(Alice, index, out _), Is.EqualTo(Error.InvalidArgument));
        Assert.That(slices.Free(Alice, index), Is.EqualTo(Error.InvalidArgument));
    }

    [Test]
    public void FullVectorIsNoMemory()
    {
        SliceVector slices = new(3);
        for (int i = 0; i < 3; i++) slices.Allocate(Alice, SystemCallLimits.AnySlice, out _);
        Assert.That(slices.Allocate(Bob, SystemCallLimits.AnySlice, out int index), Is.EqualTo(Error.NoMemory));
        Assert.That(index, Is.EqualTo(-1));
        Assert.That(slices.FreeCount, Is.Zero);
    }

    [Test]
    public void EnvironmentZeroCannotOwnASlice()
        => Assert.That(new SliceVector(4).Allocate(0, SystemCallLimits.AnySlice, out _), Is.EqualTo(Error.InvalidArgument));

    [Test]
    public void OnlyTheOwnerFrees()
    {
        SliceVector slices = new(4);
        slices.Allocate(Alice, 2, out _);
        Assert.That(slices.Free(Bob, 2), Is.EqualTo(Error.NotOwner));
        Assert.That(slices.Free(Alice, 3), Is.EqualTo(Error.NotOwner), "a free slice");
        Assert.That(slices.Free(0, 3), Is.EqualTo(Error.NotOwner));
        Assert.That(slices.Free(Alice, 2), Is.EqualTo(Error.None));
        Assert.That(slices.OwnerOf(2), Is.Zero);
        Assert.That(slices.FreeCount, Is.EqualTo(4));
    }

    [Test]
    public void ReleaseAllFreesEverySliceOfAnEndedEnvironment()
    {
        SliceVector slices = new(6);
        slices.Allocate(Alice, 0, out _);
        slices.Allocate(Bob, 1, out _);
        slices.Allocate(Alice, 4, out _);
        Assert.That(slices.CountOwnedBy(Alice), Is.EqualTo(2));
        Assert.That(slices.ReleaseAll(Alice), Is.EqualTo(2));
        Assert.That(slices.CountOwnedBy(Alice), Is.Zero);
        Assert.That(slices.OwnerOf(1), Is.EqualTo(Bob));
        Assert.That(slices.FreeCount, Is.EqualTo(5));
        Assert.That(slices.ReleaseAll(0), Is.Zero);
    }

    [Test]
    public void RoundRobinVisitsRunnableOwnersInOrder()
    {
        SliceVector slices = new(6);
        slices.Allocate(Alice, 0, out _);
        slices.Allocate(Bob, 2, out _);
        slices.Allocate(Carol, 3, out _);
        slices.Allocate(Alice, 5, out _);
        int current = -1;
        List<int> visited = new();
        for (int i = 0; i < 8; i++)
        {
            current = slices.Next(current, _ => true);
            visited.Add(current);
        }
        Assert.That(visited.ToArray(), Is.EqualTo(new[] { 0, 2, 3, 5, 0, 2, 3, 5 }));
    }

    [Test]
    public void RoundRobinSkipsOwnersThatCannotRun()
    {
        SliceVector slices = new(6);
        slices.Allocate(Alice, 0, out _);
        slices.Allocate(Bob, 2, out _);
        slices.Allocate(Carol, 3, out _);
        Assert.That(slices.Next(0, owner => owner != Bob), Is.EqualTo(3));
        Assert.That(slices.Next(3, owner => owner != Bob), Is.EqualTo(0), "wraps around");
    }

    [Test]
    public void RoundRobinStaysWithTheOnlyRunnableSlice()
    {
        SliceVector slices = new(4);
        slices.Allocate(Alice, 1, out _);
        Assert.That(slices.Next(1, _ => true), Is.EqualTo(1));
    }

    [Test]
    public void RoundRobinFindsNothingWhenNoOwnerCanRun()
    {
        SliceVector slices = new(4);
        Assert.That(slices.Next(-1, _ => true), Is.EqualTo(-1), "all free");
        slices.Allocate(Alice, 1, out _);
        Assert.That(slices.Next(1, _ => false), Is.EqualTo(-1));
    }

    [Test]
    public void FreeSlicesAreNeverOfferedToThePredicate()
    {
        SliceVector slices = new(4);
        slices.Allocate(Alice, 2, out _);
        slices.Next(0, owner =>
        {
            Assert.That(owner, Is.Not.Zero);
            return true;
        });
    }

    [Test]
    public void CopyOwnersPublishesTheVector()
    {
        SliceVector slices = new(4);
        slices.Allocate(Alice, 1, out _);
        slices.Allocate(Bob, 3, out _);
        ulong[] page = new ulong[64];
        Assert.That(slices.CopyOwners(page), Is.EqualTo(4));
        Assert.That(page.AsSpan(0, 5).ToArray(), Is.EqualTo(new ulong[] { 0, Alice, 0, Bob, 0 }));
        ulong[] small = new ulong[2];
        Assert.That(slices.CopyOwners(small), Is.EqualTo(2));
    }

    [Test]
    public void DefaultVectorMatchesTheInformationPage()
        => Assert.That(new SliceVector().Count, Is.EqualTo(64));
}
