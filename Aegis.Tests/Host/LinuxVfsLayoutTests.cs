#nullable enable
// The binary layouts the VFS writes for the program (LinuxLayouts.cs), read back by a C program
// built with the host's gcc against the host's own headers (struct stat, struct statx,
// struct statfs, struct dirent64), and getdents64's record stream.
using System.Diagnostics;
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class LinuxVfsLayoutTests
{
    private const string Reader = @"
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <dirent.h>
int main(int argc, char **argv) {
    static unsigned char b[4096];
    size_t n = fread(b, 1, sizeof b, stdin);
    (void)n;
    if (!strcmp(argv[1], ""stat"")) {
        struct stat s; memcpy(&s, b, sizeof s);
        printf(""%zu %lu %lu %lu %o %u %u %lu %ld %ld %ld %ld %ld %ld %ld %ld %ld\n"", sizeof s, s.st_dev, s.st_ino, s.st_nlink, s.st_mode,
            s.st_uid, s.st_gid, s.st_rdev, s.st_size, s.st_blksize, s.st_blocks, s.st_atim.tv_sec, s.st_atim.tv_nsec,
            s.st_mtim.tv_sec, s.st_mtim.tv_nsec, s.st_ctim.tv_sec, s.st_ctim.tv_nsec);
    } else if (!strcmp(argv[1], ""statx"")) {
        struct statx s; memcpy(&s, b, sizeof s);
        printf(""%zu %x %u %u %u %u %o %llu %llu %llu %lld %u %lld %u %lld %u %u %u %u %u\n"", sizeof s, s.stx_mask, s.stx_blksize, s.stx_nlink,
            s.stx_uid, s.stx_gid, s.stx_mode, s.stx_ino, s.stx_size, s.stx_blocks, s.stx_atime.tv_sec, s.stx_atime.tv_nsec,
            s.stx_mtime.tv_sec, s.stx_mtime.tv_nsec, s.stx_ctime.tv_sec, s.stx_ctime.tv_nsec, s.stx_rdev_major, s.stx_rdev_minor,
            s.stx_dev_major, s.stx_dev_minor);
    } else if (!strcmp(argv[1], ""statfs"")) {
        struct statfs s; memcpy(&s, b, sizeof s);
        printf(""%zu %lx %ld %ld %ld %ld %ld %ld %ld %ld %ld\n"", sizeof s, (long)s.f_type, (long)s.f_bsize, (long)s.f_blocks, (long)s.f_bfree,
            (long)s.f_bavail, (long)s.f_files, (long)s.f_ffree, (long)s.f_namelen, (long)s.f_frsize, (long)s.f_flags);
    } else if (!strcmp(argv[1], ""dirent"")) {
        size_t at = 0;
        while (at < n) {
            struct dirent64 *d = (struct dirent64 *)(b + at);
            printf(""%lu %ld %u %u %s|"", d->d_ino, d->d_off, d->d_reclen, d->d_type, d->d_name);
            at += d->d_reclen;
        }
        printf(""\n"");
    }
    return 0;
}";

    private static string? s_reader;

    private static string ReaderPath()
    {
        if (s_reader != null) return s_reader;
        string dir = HostTar.TempDirectory();
        File.WriteAllText(Path.Combine(dir, "reader.c"), Reader);
        var gcc = Process.Start(new ProcessStartInfo("gcc", "-O1 -o reader reader.c") { WorkingDirectory = dir, RedirectStandardError = true })!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        Assert.That(gcc.ExitCode, Is.EqualTo(0), errors);
        return s_reader = Path.Combine(dir, "reader");
    }

    private static string ReadBack(string kind, byte[] bytes)
    {
        var info = new ProcessStartInfo(ReaderPath(), kind) { RedirectStandardInput = true, RedirectStandardOutput = true };
        using var process = Process.Start(info)!;
        process.StandardInput.BaseStream.Write(bytes);
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }

    private static StatInfo Sample() => new()
    {
        Device = LinuxFile.MakeDevice(8, 300), Inode = 123456789, Links = 3, RDevice = LinuxFile.MakeDevice(5, 1),
        Mode = 0x21B6, Uid = 1000, Gid = 100, Size = 987654321, BlockSize = 4096, Blocks = 1929,
        AccessTime = 1_600_000_000_111_111_111, ModifyTime = 1_600_000_001_222_222_222, ChangeTime = -1_500_000_000, // before the epoch: -2 s + 0.5 s
    };

    [Test]
    public void StatLayoutIsTheHostsStructStat()
    {
        byte[] b = new byte[LinuxLayouts.StatSize];
        fixed (byte* p = b) LinuxLayouts.WriteStat(p, Sample());
        Assert.That(ReadBack("stat", b), Is.EqualTo(
            $"144 {LinuxFile.MakeDevice(8, 300)} 123456789 3 20666 1000 100 {LinuxFile.MakeDevice(5, 1)} 987654321 4096 1929 1600000000 111111111 1600000001 222222222 -2 500000000"));
    }

    /// <summary>WriteStat writes every byte of struct stat (the padding and __unused too): the
    /// system call copies a buffer it did not clear (FileCalls' SkipLocalsInit) or a kept image.</summary>
    [Test]
    public void StatLayoutWritesEveryByteOverOldContents()
    {
        byte[] clean = new byte[LinuxLayouts.StatSize], dirty = new byte[LinuxLayouts.StatSize];
        Array.Fill(dirty, (byte)0xA5);
        fixed (byte* p = clean) LinuxLayouts.WriteStat(p, Sample());
        fixed (byte* p = dirty) LinuxLayouts.WriteStat(p, Sample());
        Assert.That(dirty, Is.EqualTo(clean));
        Assert.That(clean[36] | clean[37] | clean[38] | clean[39], Is.EqualTo(0), "__pad0");
        for (int i = 120; i < 144; i++) Assert.That(clean[i], Is.EqualTo(0), "__unused at " + i);
    }

    [Test]
    public void StatxLayoutIsTheHostsStructStatx()
    {
        byte[] b = new byte[LinuxLayouts.StatxSize];
        fixed (byte* p = b) LinuxLayouts.WriteStatx(p, Sample());
        Assert.That(ReadBack("statx", b), Is.EqualTo(
            "256 7ff 4096 3 1000 100 20666 123456789 987654321 1929 1600000000 111111111 1600000001 222222222 -2 500000000 5 1 8 300"));
    }

    [Test]
    public void StatfsLayoutIsTheHostsStructStatfs()
    {
        byte[] b = new byte[LinuxLayouts.StatfsSize];
        fixed (byte* p = b) LinuxLayouts.WriteStatfs(p, LinuxFile.TMPFS_MAGIC, 1000, 900, 1000, 800, 5);
        Assert.That(ReadBack("statfs", b), Is.EqualTo("120 1021994 4096 1000 900 900 1000 800 255 4096 32"));
    }

    [Test]
    public void DeviceNumbersEncodeAsGlibcMakedev()
    {
        // glibc's makedev(8, 300): ((300 & 0xffffff00) << 12) | (8 << 8) | (300 & 0xff).
        Assert.That(LinuxFile.MakeDevice(8, 300), Is.EqualTo(1050668UL));
        Assert.That(LinuxFile.MakeDevice(4096, 0), Is.EqualTo(1UL << 44), "major bits above 12 go to bit 44 (0xfffff000 << 32)");
        Assert.That(LinuxFile.Major(LinuxFile.MakeDevice(4095 + 1, 1 << 20)), Is.EqualTo(4096u));
        Assert.That(LinuxFile.Minor(LinuxFile.MakeDevice(4095 + 1, 1 << 20)), Is.EqualTo(1u << 20));
    }

    [Test]
    public void GetdentsRecordsAreTheHostsDirent64AndResumeWhereTheyStopped()
    {
        var vfs = new Vfs();
        vfs.Files.MakeDirectoryAt(-100, "/tmp/d", 0x1ED);
        vfs.CreateFile("/tmp/d/file");
        vfs.Files.MakeDirectoryAt(-100, "/tmp/d/sub", 0x1ED);
        vfs.Files.SymlinkAt("file", -100, "/tmp/d/link");
        vfs.CreateFile("/tmp/d/" + new string('x', 200));
        int fd = (int)vfs.Open("/tmp/d", LinuxFile.O_DIRECTORY);
        byte[] all = new byte[4096];
        long n;
        fixed (byte* p = all) n = vfs.Files.GetDirectoryEntries(fd, p, all.Length);
        string records = ReadBack("dirent", all[..(int)n]);
        ulong dIno = vfs.Stat("/tmp/d").Inode, tmpIno = vfs.Stat("/tmp").Inode;
        ulong fileIno = vfs.Stat("/tmp/d/file").Inode, subIno = vfs.Stat("/tmp/d/sub").Inode, linkIno = vfs.Stat("/tmp/d/link", false).Inode;
        Assert.That(records, Is.EqualTo(
            $"{dIno} 1 24 4 .|{tmpIno} 2 24 4 ..|{fileIno} 3 24 8 file|{subIno} 4 24 4 sub|{linkIno} 5 24 10 link|" +
            $"{vfs.Stat("/tmp/d/" + new string('x', 200)).Inode} 6 224 8 {new string('x', 200)}|"));
        fixed (byte* p = all) Assert.That(vfs.Files.GetDirectoryEntries(fd, p, all.Length), Is.EqualTo(0), "the end");

        // A small buffer: one record at a time; too small for the next record: EINVAL.
        Assert.That(vfs.Files.Seek(fd, 0, LinuxFile.SEEK_SET), Is.EqualTo(0));
        var names = new List<string>();
        byte[] small = new byte[30];
        while (true)
        {
            fixed (byte* p = small) n = vfs.Files.GetDirectoryEntries(fd, p, small.Length);
            if (n <= 0) break;
            names.Add(System.Text.Encoding.ASCII.GetString(small, 19, Array.IndexOf(small, (byte)0, 19) - 19));
        }
        Assert.That(n, Is.EqualTo(-22), "the 224-byte record does not fit in 30");
        Assert.That(names, Is.EqualTo(new[] { ".", "..", "file", "sub", "link" }));
        // Seeking to a d_off resumes there.
        Assert.That(vfs.Files.Seek(fd, 3, LinuxFile.SEEK_SET), Is.EqualTo(3));
        fixed (byte* p = all) n = vfs.Files.GetDirectoryEntries(fd, p, all.Length);
        Assert.That(ReadBack("dirent", all[..(int)n]), Does.StartWith($"{subIno} 4 24 4 sub|"));
    }

    [Test]
    public void GetdentsSkipsRemovedEntriesAndSeesNewOnes()
    {
        var vfs = new Vfs();
        for (int i = 0; i < 200; i++) vfs.CreateFile("/tmp/f" + i);
        for (int i = 0; i < 200; i += 2) Assert.That(vfs.Files.UnlinkAt(-100, "/tmp/f" + i, 0), Is.EqualTo(0));
        vfs.CreateFile("/tmp/late");
        var names = vfs.List("/tmp").Select(e => e.Name).ToList();
        var expected = new List<string> { ".", ".." };
        for (int i = 1; i < 200; i += 2) expected.Add("f" + i);
        expected.Add("late");
        Assert.That(names, Is.EqualTo(expected));
        Assert.That(vfs.Files.GetDirectoryEntries(0, null, 0), Is.EqualTo(-20), "not a directory: ENOTDIR");
        vfs.CreateFile("/tmp/plain");
        int file = (int)vfs.Open("/tmp/plain", 0);
        Assert.That(vfs.Files.GetDirectoryEntries(file, null, 100), Is.EqualTo(-20));
    }
}
