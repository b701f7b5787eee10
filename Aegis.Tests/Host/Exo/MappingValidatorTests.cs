// Page-table validation: a PageMap request binds only user pages, with user permissions, to
// frames the caller may use; a batch is accepted whole or not at all.
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using NUnit.Framework;

namespace Aegis.Tests.Host.Exo;

public class MappingValidatorTests
{
    private const ulong Alice = 0x401, Bob = 0x402, Child = 0x403;
    private const ulong Page = UserAddresses.ImageBase;
    private const ulong AliceFrame = 10, BobFrame = 20, SharedReadOnly = 21, SharedWritable = 22, ChildFrame = 30;

    private FrameLedger _ledger;
    private MappingValidator _validator;
    private FakeMappedFrames _space;

    [SetUp]
    public void SetUp()
    {
        _ledger = new FrameLedger(64);
        _ledger.Assign(AliceFrame, Alice);
        _ledger.Assign(BobFrame, Bob);
        _ledger.Assign(SharedReadOnly, Bob);
        _ledger.Assign(SharedWritable, Bob);
        _ledger.Assign(ChildFrame, Child);
        _ledger.Grant(SharedReadOnly, Bob, Alice, false);
        _ledger.Grant(SharedWritable, Bob, Alice, true);
        _validator = new MappingValidator(_ledger);
        _space = new FakeMappedFrames();
    }

    private static PageMapRequest Map(ulong address, ulong frame, ulong permissions = PageBits.Writable)
        => new() { VirtualAddress = address, Frame = frame, Permissions = permissions, Operation = PageMapOperation.Map };

    private static PageMapRequest Unmap(ulong address)
        => new() { VirtualAddress = address, Operation = PageMapOperation.Unmap };

    private static PageMapRequest Protect(ulong address, ulong permissions)
        => new() { VirtualAddress = address, Permissions = permissions, Operation = PageMapOperation.Protect };

    private Error AsAlice(PageMapRequest request) => _validator.Validate(request, Alice, Alice, _space);

    [Test]
    public void OwnedFrameMapsWithEveryAllowedPermission()
    {
        Assert.That(AsAlice(Map(Page, AliceFrame, 0)), Is.EqualTo(Error.None));
        Assert.That(AsAlice(Map(Page, AliceFrame, PageBits.Allowed)), Is.EqualTo(Error.None));
    }

    // One permission rule for PageMap (Map, Protect) and PageProtect (which calls CheckPermissions).
    [TestCase(PageBits.Present)]
    [TestCase(PageBits.User)]
    [TestCase(PageBits.Present | PageBits.User | PageBits.Writable)]
    [TestCase(PageBits.Accessed)]
    [TestCase(PageBits.Dirty)]
    [TestCase(1UL << 7)]
    public void PermissionsOutsideAllowedAreRefusedByMapProtectAndPageProtectAlike(ulong permissions)
    {
        Assert.That(AsAlice(Map(Page, AliceFrame, permissions)), Is.EqualTo(Error.InvalidArgument), "PageMap Map");
        Assert.That(AsAlice(Protect(Page, permissions)), Is.EqualTo(Error.InvalidArgument), "PageMap Protect");
        Assert.That(MappingValidator.CheckPermissions(permissions), Is.EqualTo(Error.InvalidArgument), "PageProtect");
    }

    [Test]
    public void EveryAllowedBitPassesTheOneRule()
    {
        Assert.That(MappingValidator.AcceptedPermissions, Is.EqualTo(PageBits.Allowed));
        for (int bit = 0; bit < 64; bit++)
        {
            ulong permissions = 1UL << bit;
            Error expected = (PageBits.Allowed & permissions) != 0 ? Error.None : Error.InvalidArgument;
            Assert.That(MappingValidator.CheckPermissions(permissions), Is.EqualTo(expected), "bit " + bit);
        }
    }

    [TestCase(UserAddresses.UserEnd)]
    [TestCase(0xFFFF_8000_0000_0000UL)]
    [TestCase(0xFFFF_FFFF_8010_0000UL)]
    [TestCase(UserAddresses.InfoPage)]
    [TestCase(UserAddresses.EnvironmentPage)]
    [TestCase(UserAddresses.ReservedTop)]
    [TestCase(0UL)]
    [TestCase(0x1000UL)]
    [TestCase(UserAddresses.LowestMappable - UserAddresses.PageSize)]
    [TestCase(0x0000_8000_0000_1000UL)]
    [TestCase(0x1234_5678_9ABC_D000UL)]
    [TestCase(ulong.MaxValue - 0xFFF)]
    public void KernelReservedAndNullGuardAddressesAreBadAddress(ulong address)
    {
        _space.Map(address, AliceFrame);
        Assert.That(AsAlice(Map(address, AliceFrame)), Is.EqualTo(Error.BadAddress));
        Assert.That(AsAlice(Unmap(address)), Is.EqualTo(Error.BadAddress));
        Assert.That(AsAlice(Protect(address, 0)), Is.EqualTo(Error.BadAddress));
    }

    [TestCase(0x0040_0000UL, Error.None)]
    [TestCase(0x0040_0008UL, Error.InvalidArgument)]
    [TestCase(0xFFFF_8000_0000_0000UL, Error.BadAddress)]
    [TestCase(0xFFFF_8000_0000_0008UL, Error.BadAddress)]
    [TestCase(UserAddresses.InfoPage, Error.BadAddress)]
    public void PageAddressCheckForQueriesMatchesPageMap(ulong address, Error expected)
        => Assert.That(MappingValidator.CheckPageAddress(address), Is.EqualTo(expected));

    [Test]
    public void TheEdgesOfUserMemoryAreMappable()
    {
        Assert.That(AsAlice(Map(UserAddresses.LowestMappable, AliceFrame)), Is.EqualTo(Error.None));
        Assert.That(AsAlice(Map(UserAddresses.ReservedTop - UserAddresses.PageSize, AliceFrame)), Is.EqualTo(Error.None));
    }

    [TestCase(1UL)]
    [TestCase(0x800UL)]
    [TestCase(0xFFFUL)]
    public void MisalignedAddressIsInvalidArgument(ulong offset)
    {
        Assert.That(AsAlice(Map(Page + offset, AliceFrame)), Is.EqualTo(Error.InvalidArgument));
        Assert.That(AsAlice(Unmap(Page + offset)), Is.EqualTo(Error.InvalidArgument));
        Assert.That(AsAlice(Protect(Page + offset, 0)), Is.EqualTo(Error.InvalidArgument));
    }

    [TestCase(PageBits.Accessed)]
    [TestCase(PageBits.Dirty)]
    [TestCase(1UL << 3)]   // write-through
    [TestCase(1UL << 4)]   // cache disable
    [TestCase(1UL << 7)]   // PAT / large page
    [TestCase(1UL << 8)]   // global
    [TestCase(1UL << 12)]  // an address bit
    [TestCase(1UL << 52)]
    [TestCase(1UL << 62)]
    [TestCase(ulong.MaxValue)]
    public void DisallowedPermissionBitsAreInvalidArgument(ulong bit)
    {
        _space.Map(Page, AliceFrame);
        Assert.That(AsAlice(Map(Page, AliceFrame, PageBits.Writable | bit)), Is.EqualTo(Error.InvalidArgument));
        Assert.That(AsAlice(Protect(Page, bit)), Is.EqualTo(Error.InvalidArgument));
    }

    [TestCase(3u)]
    [TestCase(uint.MaxValue)]
    public void UnknownOperationIsInvalidArgument(uint operation)
    {
        PageMapRequest request = Map(Page, AliceFrame);
        request.Operation = (PageMapOperation)operation;
        Assert.That(AsAlice(request), Is.EqualTo(Error.InvalidArgument));
    }

    [TestCase(64UL)]
    [TestCase(1UL << 40)]
    [TestCase(ulong.MaxValue)]
    [TestCase(SystemCallLimits.AnyFrame)]
    public void FramePastTheLimitIsInvalidArgument(ulong frame)
        => Assert.That(AsAlice(Map(Page, frame)), Is.EqualTo(Error.InvalidArgument));

    [Test]
    public void AnotherEnvironmentsFrameIsNotOwner()
    {
        Assert.That(AsAlice(Map(Page, BobFrame, 0)), Is.EqualTo(Error.NotOwner));
        Assert.That(AsAlice(Map(Page, 0, 0)), Is.EqualTo(Error.NotOwner), "frame 0, owned by nobody");
    }

    [Test]
    public void ReadOnlyGrantUsedWritableIsNotOwner()
    {
        Assert.That(AsAlice(Map(Page, SharedReadOnly, 0)), Is.EqualTo(Error.None));
        Assert.That(AsAlice(Map(Page, SharedReadOnly, PageBits.Writable)), Is.EqualTo(Error.NotOwner));
        Assert.That(AsAlice(Map(Page, SharedWritable, PageBits.Writable)), Is.EqualTo(Error.None));
    }

    [Test]
    public void ProtectCannotMakeAReadOnlyGrantWritable()
    {
        _space.Map(Page, SharedReadOnly);
        Assert.That(AsAlice(Protect(Page, PageBits.NoExecute)), Is.EqualTo(Error.None));
        Assert.That(AsAlice(Protect(Page, PageBits.Writable)), Is.EqualTo(Error.NotOwner));
    }

    [Test]
    public void UnmapAndProtectNeedAMappedPage()
    {
        Assert.That(AsAlice(Unmap(Page)), Is.EqualTo(Error.NotMapped));
        Assert.That(AsAlice(Protect(Page, 0)), Is.EqualTo(Error.NotMapped));
        _space.Map(Page, AliceFrame);
        Assert.That(AsAlice(Unmap(Page)), Is.EqualTo(Error.None));
        Assert.That(AsAlice(Protect(Page, PageBits.Writable)), Is.EqualTo(Error.None));
    }

    [Test]
    public void UnmapIgnoresTheFrameAndPermissionFields()
    {
        _space.Map(Page, AliceFrame);
        PageMapRequest request = Unmap(Page);
        request.Frame = ulong.MaxValue;
        request.Permissions = ulong.MaxValue;
        Assert.That(AsAlice(request), Is.EqualTo(Error.None));
    }

    [Test]
    public void ACapabilityHolderMayUseTheTargetsFramesInTheTargetsSpace()
    {
        Assert.That(_validator.Validate(Map(Page, ChildFrame), Alice, Child, _space), Is.EqualTo(Error.None));
        Assert.That(_validator.Validate(Map(Page, AliceFrame), Alice, Child, _space), Is.EqualTo(Error.None));
        Assert.That(_validator.Validate(Map(Page, BobFrame), Alice, Child, _space), Is.EqualTo(Error.NotOwner));
        Assert.That(_validator.Validate(Map(Page, ChildFrame), Alice, Alice, _space), Is.EqualTo(Error.NotOwner),
            "in its own space the caller's rights alone count");
    }

    [Test]
    public void BatchIsValidatedWholeAndReportsTheFirstBadRequest()
    {
        PageMapRequest[] batch =
        {
            Map(Page, AliceFrame),
            Map(Page + 0x1000, SharedReadOnly, 0),
            Map(Page + 0x2000, BobFrame),
            Map(UserAddresses.InfoPage, AliceFrame),
        };
        Assert.That(_validator.ValidateBatch(batch, Alice, Alice, _space, out int failed), Is.EqualTo(Error.NotOwner));
        Assert.That(failed, Is.EqualTo(2));
        batch[2] = Map(Page + 0x2000, AliceFrame);
        Assert.That(_validator.ValidateBatch(batch, Alice, Alice, _space, out failed), Is.EqualTo(Error.BadAddress));
        Assert.That(failed, Is.EqualTo(3));
        Assert.That(_validator.ValidateBatch(batch.AsSpan(0, 3), Alice, Alice, _space, out failed), Is.EqualTo(Error.None));
        Assert.That(failed, Is.EqualTo(-1));
    }

    [Test]
    public void EmptyBatchIsValid()
        => Assert.That(_validator.ValidateBatch(ReadOnlySpan<PageMapRequest>.Empty, Alice, Alice, _space, out _), Is.EqualTo(Error.None));

    [Test]
    public void OversizedBatchIsInvalidArgument()
    {
        PageMapRequest[] batch = new PageMapRequest[SystemCallLimits.MaximumMapRequests + 1];
        for (int i = 0; i < batch.Length; i++) batch[i] = Map(Page + (ulong)i * 0x1000, AliceFrame);
        Assert.That(_validator.ValidateBatch(batch, Alice, Alice, _space, out int failed), Is.EqualTo(Error.InvalidArgument));
        Assert.That(failed, Is.EqualTo(-1));
        Assert.That(_validator.ValidateBatch(batch.AsSpan(1), Alice, Alice, _space, out _), Is.EqualTo(Error.None));
        Assert.That(MappingValidator.CheckBatchCount(ulong.MaxValue), Is.EqualTo(Error.InvalidArgument));
        Assert.That(MappingValidator.CheckBatchCount(SystemCallLimits.MaximumMapRequests), Is.EqualTo(Error.None));
    }

    [Test]
    public void BatchSeesItsOwnEarlierRequests()
    {
        PageMapRequest[] mapThenProtect = { Map(Page, AliceFrame, 0), Protect(Page, PageBits.Writable), Unmap(Page) };
        Assert.That(_validator.ValidateBatch(mapThenProtect, Alice, Alice, _space, out _), Is.EqualTo(Error.None),
            "the page is mapped by request 0 before request 1 needs it");

        PageMapRequest[] unmapTwice = { Map(Page, AliceFrame), Unmap(Page), Unmap(Page) };
        Assert.That(_validator.ValidateBatch(unmapTwice, Alice, Alice, _space, out int failed), Is.EqualTo(Error.NotMapped));
        Assert.That(failed, Is.EqualTo(2));
    }

    [Test]
    public void BatchCannotLaunderAReadOnlyGrantThroughAnEarlierMap()
    {
        _space.Map(Page, AliceFrame);
        PageMapRequest[] batch = { Map(Page, SharedReadOnly, 0), Protect(Page, PageBits.Writable) };
        Assert.That(_validator.ValidateBatch(batch, Alice, Alice, _space, out int failed), Is.EqualTo(Error.NotOwner));
        Assert.That(failed, Is.EqualTo(1));
    }

    [Test]
    public void ProtectOnlyBatchAsksTheAddressSpaceOncePerPage()
    {
        PageMapRequest[] batch = new PageMapRequest[100];
        for (int i = 0; i < batch.Length; i++)
        {
            _space.Map(Page + (ulong)i * 0x1000, AliceFrame);
            batch[i] = Protect(Page + (ulong)i * 0x1000, 0);
        }
        Assert.That(_validator.ValidateBatch(batch, Alice, Alice, _space, out _), Is.EqualTo(Error.None));
        Assert.That(_space.Lookups, Is.EqualTo(100));
    }

    [Test]
    public void ToPageFlagsAlwaysGivesPresentUser()
    {
        Assert.That(MappingValidator.ToPageFlags(0), Is.EqualTo(PageFlags.Present | PageFlags.User));
        Assert.That(MappingValidator.ToPageFlags(PageBits.Writable | PageBits.NoExecute),
            Is.EqualTo(PageFlags.Present | PageFlags.User | PageFlags.Writable | PageFlags.NoExecute));
    }

    [Test]
    public void ToPageFlagsKeepsTheSoftwareBits()
    {
        PageFlags flags = MappingValidator.ToPageFlags(PageBits.Software0 | PageBits.Software1 | PageBits.Software2);
        Assert.That((ulong)flags, Is.EqualTo(0x7UL << 9 | (ulong)(PageFlags.Present | PageFlags.User)));
    }

    [Test]
    public void ToPageFlagsDropsWhatIsNotAllowed()
        => Assert.That(MappingValidator.ToPageFlags(ulong.MaxValue & ~PageBits.NoExecute & ~PageBits.Writable & ~(0x7UL << 9)),
            Is.EqualTo(PageFlags.Present | PageFlags.User));

    [Test]
    public void RandomRequestsNeverPassWithoutTheRules([Values(11, 12, 13)] int seed)
    {
        Random random = new(seed);
        for (int i = 0; i < 20000; i++)
        {
            PageMapRequest request = new()
            {
                VirtualAddress = RandomAddress(random),
                Frame = (ulong)random.Next(70),
                Permissions = random.Next(3) == 0 ? (ulong)random.NextInt64() : PageBits.Allowed & (ulong)random.NextInt64(),
                Operation = (PageMapOperation)random.Next(4),
            };
            if (random.Next(2) == 0) _space.Map(request.VirtualAddress, (ulong)random.Next(70));
            Error error = AsAlice(request);
            if (error != Error.None) continue;
            Assert.That(MappingValidator.IsMappableAddress(request.VirtualAddress) && request.VirtualAddress % 0x1000 == 0, Is.True);
            Assert.That(request.Operation, Is.LessThanOrEqualTo(PageMapOperation.Protect));
            if (request.Operation == PageMapOperation.Unmap) continue;
            Assert.That(request.Permissions & ~MappingValidator.AcceptedPermissions, Is.Zero);
            if (request.Operation == PageMapOperation.Map)
                Assert.That(_ledger.CheckMap(request.Frame, Alice, (request.Permissions & PageBits.Writable) != 0), Is.EqualTo(Error.None));
        }
    }

    private static ulong RandomAddress(Random random) => random.Next(4) switch
    {
        0 => (ulong)random.NextInt64() | ((ulong)random.Next(2) << 63),
        1 => UserAddresses.ImageBase + (ulong)random.Next(16) * 0x1000,
        2 => UserAddresses.ReservedTop - 0x1000 + (ulong)random.Next(3) * 0x1000,
        _ => (ulong)random.Next(0x200000),
    };
}
