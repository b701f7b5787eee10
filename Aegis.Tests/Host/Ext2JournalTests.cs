#nullable enable
// The journal's revoke records, deterministically: an indirect block logged in one transaction,
// freed in the next and reused as file data in a third must not be overwritten by its old logged
// copy when the log is replayed after a crash.
using System.Text.RegularExpressions;
using Aegis.LibOS.Unixish.Storage;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class Ext2JournalTests
{
    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Test]
    public void Ext2RevokedIndirectBlockReusedAsDataSurvivesReplay()
    {
        var store = new MemoryBlockStore(Ext2Tools.MakeImage(null, 1024, "8M"));
        var fs = Ext2FileSystem.Mount(store, new Ext2MountOptions { Clock = () => 1_700_000_000 });
        const uint root = Ext2FileSystem.RootInode;
        Assert.That(fs.Create(root, "a", 0x1A4, 0, 0, out uint a), Is.EqualTo(0));
        byte[] first = Pattern(100 * 1024, 1);
        Assert.That(fs.Write(a, 0, first, 0, first.Length), Is.EqualTo(first.Length));
        Assert.That(fs.FsyncFile(a), Is.EqualTo(0));
        byte[] snapshot = (byte[])store.Bytes.Clone(); // the home blocks are not written yet: replay a copy to look
        Ext2FileSystem.Mount(new MemoryBlockStore(snapshot), new Ext2MountOptions { ReadOnly = true });
        string aBlocks = Ext2Tools.Debugfs(snapshot, "stat /a");
        long indirect = long.Parse(Regex.Match(aBlocks, @"\(IND\):(\d+)").Groups[1].Value);

        Assert.That(fs.Unlink(root, "a"), Is.EqualTo(0));
        Assert.That(fs.FsyncFile(root), Is.EqualTo(0));
        // c takes a's first data block, so b's twelfth data block lands on a's old indirect block.
        Assert.That(fs.Create(root, "c", 0x1A4, 0, 0, out uint c), Is.EqualTo(0));
        Assert.That(fs.Write(c, 0, new byte[] { 7 }, 0, 1), Is.EqualTo(1));
        Assert.That(fs.Create(root, "b", 0x1A4, 0, 0, out uint b), Is.EqualTo(0));
        byte[] second = Pattern(100 * 1024, 2);
        Assert.That(fs.Write(b, 0, second, 0, second.Length), Is.EqualTo(second.Length));
        Assert.That(fs.FsyncFile(b), Is.EqualTo(0));
        Assert.That(fs.Journal!.Checkpoints, Is.EqualTo(0), "the old copies are still in the log");

        byte[] crashed = (byte[])store.Bytes.Clone(); // power lost here: nothing checkpointed
        var replayed = Ext2FileSystem.Mount(new MemoryBlockStore(crashed), new Ext2MountOptions { ReadOnly = true });
        Assert.That(replayed.ReplayedTransactions, Is.GreaterThanOrEqualTo(3));
        Assert.That(Ext2Tools.Resolve(replayed, "b", out uint bAgain), Is.EqualTo(0));
        Assert.That(Ext2Tools.ReadAll(replayed, bAgain), Is.EqualTo(second), "b's data, including the block that was a's indirect block");
        Assert.That(Ext2Tools.Resolve(replayed, "a", out _), Is.Not.EqualTo(0));
        string bBlocks = Ext2Tools.Debugfs(crashed, "stat /b");
        Assert.That(bBlocks, Does.Match(@"\(0-11\):\d+-" + indirect + @"\b"),
            "b's last direct data block is a's old indirect block (else the test proves nothing)");
        Ext2Tools.AssertClean(crashed, "after replay with revokes");
    }
}
