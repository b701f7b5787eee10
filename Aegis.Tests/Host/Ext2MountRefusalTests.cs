#nullable enable
// Images Ext2FileSystem must refuse with a clear StorageException: features it does not
// implement (ext4's extents, 64bit, flex_bg, metadata_csum), read-only-compatible features when
// mounting read-write, a wrong magic number, a file system larger than its device.
using Aegis.LibOS.Unixish.Linux;
using Aegis.LibOS.Unixish.Storage;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class Ext2MountRefusalTests
{
    private static StorageException Refused(byte[] image, bool readOnly = false) =>
        Assert.Throws<StorageException>(() => Ext2FileSystem.Mount(new MemoryBlockStore(image), new Ext2MountOptions { ReadOnly = readOnly }))!;

    [Test]
    public void Ext2RefusesExt4Images()
    {
        byte[] image = Ext2Tools.MakeImage(null, 4096, "16M", "-T", "default", "-O", "extent,flex_bg,64bit,metadata_csum");
        StorageException e = Refused(image, true);
        Assert.That(e.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(e.Message, Does.Contain("extents").And.Contain("64bit").And.Contain("flex_bg"));
    }

    [Test]
    public void Ext2RefusesReadOnlyCompatibleFeaturesForWritingOnly()
    {
        byte[] image = Ext2Tools.MakeImage(null, 1024, "8M", "-O", "huge_file,dir_nlink");
        StorageException e = Refused((byte[])image.Clone());
        Assert.That(e.Errno, Is.EqualTo(Errno.EROFS));
        var fs = Ext2FileSystem.Mount(new MemoryBlockStore(image), new Ext2MountOptions { ReadOnly = true });
        Assert.That(fs.Lookup(Ext2FileSystem.RootInode, "lost+found", out _), Is.EqualTo(0));
        Assert.That(fs.Create(Ext2FileSystem.RootInode, "x", 0x1A4, 0, 0, out _), Is.EqualTo(-Errno.EROFS));
    }

    [Test]
    public void Ext2RefusesABadMagicNumberAndATooSmallDevice()
    {
        byte[] image = Ext2Tools.MakeImage(null, 1024, "8M");
        byte[] bad = (byte[])image.Clone();
        bad[1024 + 0x38] ^= 0xFF;
        Assert.That(Refused(bad).Message, Does.Contain("magic"));
        byte[] cut = image.AsSpan(0, 4 * 1024 * 1024).ToArray();
        Assert.That(Refused(cut).Message, Does.Contain("larger than the device"));
    }

    [Test]
    public void Ext2RefusesAnUnknownIncompatibleFeatureBit()
    {
        byte[] image = Ext2Tools.MakeImage(null, 1024, "8M");
        image[1024 + 0x60 + 2] |= 0x40; // an INCOMPAT bit nobody defines (0x400000)
        Assert.That(Refused(image, true).Message, Does.Contain("unsupported incompatible features"));
    }

    [Test]
    public void Ext2RefusesAJournalWithChecksums()
    {
        byte[] image = Ext2Tools.MakeImage(null, 1024, "8M");
        string dir = Ext2Tools.TempDirectory();
        string path = Path.Combine(dir, "image");
        File.WriteAllBytes(path, image);
        var (code, output) = Ext2Tools.Run("debugfs", "-w", "-R", "ssv journal_csum_type 4", path); // harmless; the feature bit below matters
        string jsb = Ext2Tools.Run("debugfs", "-R", "stat <8>", path).Output;
        Directory.Delete(dir, true);
        int journalStart = int.Parse(System.Text.RegularExpressions.Regex.Match(jsb, @"\(0-11\):(\d+)").Groups[1].Value);
        image[journalStart * 1024 + 0x28 + 3] |= 0x10; // JBD2_FEATURE_INCOMPAT_CSUM_V3 (big-endian)
        Assert.That(Refused(image, true).Message, Does.Contain("journal has unsupported"));
        GC.KeepAlive(code + output);
    }
}
