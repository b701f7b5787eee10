// LibOS.Unixish/Storage inside the guest: the fixture Tests/Apps/Ext2Smoke, compiled by ILC
// against Aegis.Runtime, mounts ext2 and ext3 images from mke2fs, writes, replays a journal.
// Named apart from the Ext2* host tests, which need no ISO.
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class StorageBootTests
{
    [Test]
    public void StorageLibraryRunsInRing3AndReplaysAnExt3Journal()
    {
        FrontDoorResult result = FrontDoor.Boot(120, "init=ext2smoke", "exit");
        result.AssertOutputMatches(@"(?m)ext2smoke: ok \(ext2 written and read back; ext3 journal replayed [1-9]\d* transaction");
        result.AssertExitStatus(0);
    }
}
