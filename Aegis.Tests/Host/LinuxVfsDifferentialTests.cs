#nullable enable
// The VFS's namespace semantics against the host's Linux kernel: the same script of file calls
// runs on the host (raw system calls through libc's syscall(), inside a fresh directory, as root
// like Aegis's one user) and on the VFS (inside /tmp/w); every step's outcome — success with what
// it observed, or the errno — must be the same. The host is the reference, so the expectations
// are Linux's own.
using System.Runtime.InteropServices;
using System.Text;
using Aegis.LibOS.Unixish.Linux.Files;
using Aegis.LibOS.Unixish.Storage;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class LinuxVfsDifferentialTests
{
    private const long SYS_read = 0, SYS_write = 1, SYS_close = 3, SYS_lseek = 8, SYS_truncate = 76, SYS_openat = 257,
        SYS_mkdirat = 258, SYS_newfstatat = 262, SYS_unlinkat = 263, SYS_linkat = 265, SYS_symlinkat = 266,
        SYS_readlinkat = 267, SYS_faccessat = 269, SYS_renameat2 = 316;

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long Sys(long number, long a, long b, long c, long d, long e);

    private interface IExecutor
    {
        long Call(long number, long a, long b, long c, long d, long e);
        long Dirfd { get; }
    }

    private sealed class HostExecutor : IExecutor
    {
        public long Dirfd { get; }
        public HostExecutor(string directory)
        {
            fixed (byte* p = Encoding.UTF8.GetBytes(directory + "\0"))
                Dirfd = Sys(SYS_openat, -100, (long)p, 0x10000, 0, 0);
            Assert.That(Dirfd, Is.GreaterThanOrEqualTo(0));
        }
        public long Call(long number, long a, long b, long c, long d, long e)
        {
            long result = Sys(number, a, b, c, d, e);
            return result == -1 ? -Marshal.GetLastPInvokeError() : result;
        }
    }

    private sealed class VfsExecutor : IExecutor
    {
        private readonly Vfs _vfs;
        public long Dirfd => -100;
        /// <summary>Null: the scripts run in /tmp/w of a memory tree; else in /w of this image's file system as /.</summary>
        public readonly Ext2FileSystem? Disk;
        public readonly MemoryBlockStore? Image;

        public VfsExecutor(bool onDisk)
        {
            string work = "/tmp/w";
            if (onDisk)
            {
                Image = new MemoryBlockStore(Ext2Tools.MakeImage(null, 1024, "16M"), 512);
                Disk = Ext2FileSystem.Mount(Image);
                work = "/w";
            }
            _vfs = new Vfs(disk: Disk == null ? null : new DiskTree(Disk));
            Assert.That(_vfs.Files.MakeDirectoryAt(-100, work, 0x1ED), Is.EqualTo(0));
            Assert.That(_vfs.Files.ChangeDirectory(work), Is.EqualTo(0));
        }

        private static string S(long address) => address == 0 ? null! : PathBytes.ToString((byte*)address, StrLen((byte*)address));
        private static int StrLen(byte* p) { int n = 0; while (p[n] != 0) n++; return n; }

        public long Call(long number, long a, long b, long c, long d, long e)
        {
            LinuxFiles f = _vfs.Files;
            switch (number)
            {
                case SYS_read: return f.Read((int)a, (byte*)b, c);
                case SYS_write: return f.Write((int)a, (byte*)b, c);
                case SYS_close: return f.Close((int)a);
                case SYS_lseek: return f.Seek((int)a, b, (int)c);
                case SYS_truncate: return f.Truncate(S(a), b);
                case SYS_openat: return f.OpenAt((int)a, S(b), (int)c, (uint)d);
                case SYS_mkdirat: return f.MakeDirectoryAt((int)a, S(b), (uint)c);
                case SYS_newfstatat:
                    {
                        int error = f.StatAt((int)a, S(b), (int)d, out StatInfo info);
                        if (error < 0) return error;
                        LinuxLayouts.WriteStat((byte*)c, info);
                        return 0;
                    }
                case SYS_unlinkat: return f.UnlinkAt((int)a, S(b), (int)c);
                case SYS_linkat: return f.LinkAt((int)a, S(b), (int)c, S(d), (int)e);
                case SYS_symlinkat: return f.SymlinkAt(S(a), (int)b, S(c));
                case SYS_readlinkat:
                    {
                        int error = f.ReadLinkAt((int)a, S(b), out string target);
                        if (error < 0) return error;
                        return PathBytes.Copy(target, (byte*)c, (int)d);
                    }
                case SYS_faccessat: return f.AccessAt((int)a, S(b), (int)c, 0);
                case SYS_renameat2: return f.RenameAt((int)a, S(b), (int)c, S(d), (int)e);
            }
            throw new ArgumentException("no such call " + number);
        }
    }

    private static readonly Dictionary<string, int> Flags = new()
    {
        ["RDONLY"] = 0, ["WRONLY"] = 1, ["RDWR"] = 2, ["CREAT"] = 0x40, ["EXCL"] = 0x80, ["TRUNC"] = 0x200,
        ["APPEND"] = 0x400, ["NONBLOCK"] = 0x800, ["DIRECTORY"] = 0x10000, ["NOFOLLOW"] = 0x20000, ["PATH"] = 0x200000,
        ["NOREPLACE"] = 1, ["EXCHANGE"] = 2, ["REMOVEDIR"] = 0x200, ["SYMLINK_NOFOLLOW"] = 0x100, ["SYMLINK_FOLLOW"] = 0x400,
    };

    private static int ParseFlags(string text)
    {
        int flags = 0;
        foreach (string name in text.Split('|')) flags |= Flags[name];
        return flags;
    }

    private static string Errno(long result) => result >= 0 ? "ok" : "errno " + (-result);

    // One step of the script: "op args..." → "ok[:observed]" or "errno N".
    private static string Step(IExecutor x, string line)
    {
        string[] w = line.Split(' ');
        var pinned = new List<GCHandle>();
        long P(string s)
        {
            if (s == "EMPTY") s = "";
            var h = GCHandle.Alloc(Encoding.UTF8.GetBytes(s + "\0"), GCHandleType.Pinned);
            pinned.Add(h);
            return h.AddrOfPinnedObject();
        }
        try
        {
            long d = x.Dirfd;
            switch (w[0])
            {
                case "mkdir": return Errno(x.Call(SYS_mkdirat, d, P(w[1]), 0x1ED, 0, 0));
                case "rmdir": return Errno(x.Call(SYS_unlinkat, d, P(w[1]), 0x200, 0, 0));
                case "unlink": return Errno(x.Call(SYS_unlinkat, d, P(w[1]), 0, 0, 0));
                case "unlinkat": return Errno(x.Call(SYS_unlinkat, d, P(w[1]), ParseFlags(w[2]), 0, 0));
                case "symlink": return Errno(x.Call(SYS_symlinkat, P(w[1]), d, P(w[2]), 0, 0));
                case "link": return Errno(x.Call(SYS_linkat, d, P(w[1]), d, P(w[2]), w.Length > 3 ? ParseFlags(w[3]) : 0));
                case "rename": return Errno(x.Call(SYS_renameat2, d, P(w[1]), d, P(w[2]), w.Length > 3 ? ParseFlags(w[3]) : 0));
                case "access": return Errno(x.Call(SYS_faccessat, d, P(w[1]), int.Parse(w[2]), 0, 0));
                case "truncate":
                    {
                        // truncate(2) has no dirfd: the host runs it on the absolute path.
                        return Errno(x is HostExecutor h ? x.Call(SYS_truncate, P(HostRoot + "/" + w[1]), long.Parse(w[2]), 0, 0, 0)
                                                         : x.Call(SYS_truncate, P(w[1]), long.Parse(w[2]), 0, 0, 0));
                    }
                case "open":
                    {
                        long fd = x.Call(SYS_openat, d, P(w[1]), ParseFlags(w[2]), 0x1A4, 0);
                        if (fd < 0) return Errno(fd);
                        x.Call(SYS_close, fd, 0, 0, 0, 0);
                        return "ok";
                    }
                case "write": // write PATH TEXT (open O_WRONLY|O_CREAT|O_APPEND or with flags in w[3])
                    {
                        long fd = x.Call(SYS_openat, d, P(w[1]), w.Length > 3 ? ParseFlags(w[3]) : 0x441, 0x1A4, 0);
                        if (fd < 0) return Errno(fd);
                        byte[] text = Encoding.UTF8.GetBytes(w[2]);
                        long n;
                        fixed (byte* t = text) n = x.Call(SYS_write, fd, (long)t, text.Length, 0, 0);
                        x.Call(SYS_close, fd, 0, 0, 0, 0);
                        return n < 0 ? Errno(n) : "ok:" + n;
                    }
                case "cat":
                    {
                        long fd = x.Call(SYS_openat, d, P(w[1]), 0, 0, 0);
                        if (fd < 0) return Errno(fd);
                        byte[] buffer = new byte[4096];
                        long n;
                        fixed (byte* b = buffer) n = x.Call(SYS_read, fd, (long)b, buffer.Length, 0, 0);
                        x.Call(SYS_close, fd, 0, 0, 0, 0);
                        return n < 0 ? Errno(n) : "ok:" + Encoding.UTF8.GetString(buffer, 0, (int)n);
                    }
                case "seek": // seek PATH OFFSET WHENCE: the result of lseek on a fresh O_RDONLY descriptor
                    {
                        long fd = x.Call(SYS_openat, d, P(w[1]), 0, 0, 0);
                        if (fd < 0) return Errno(fd);
                        long r = x.Call(SYS_lseek, fd, long.Parse(w[2]), int.Parse(w[3]), 0, 0);
                        x.Call(SYS_close, fd, 0, 0, 0, 0);
                        return r < 0 ? Errno(r) : "ok:" + r;
                    }
                case "readlink":
                    {
                        byte[] buffer = new byte[256];
                        long n;
                        fixed (byte* b = buffer) n = x.Call(SYS_readlinkat, d, P(w[1]), (long)b, buffer.Length, 0);
                        return n < 0 ? Errno(n) : "ok:" + Encoding.UTF8.GetString(buffer, 0, (int)n);
                    }
                case "stat":
                case "lstat":
                    {
                        byte[] buffer = new byte[144];
                        long r;
                        fixed (byte* b = buffer) r = x.Call(SYS_newfstatat, d, P(w[1]), (long)b, w[0] == "lstat" ? 0x100 : 0, 0);
                        if (r < 0) return Errno(r);
                        uint mode = BitConverter.ToUInt32(buffer, 24);
                        long size = BitConverter.ToInt64(buffer, 48);
                        ulong links = BitConverter.ToUInt64(buffer, 16);
                        string type = (mode & 0xF000) switch { 0x8000 => "file", 0x4000 => "dir", 0xA000 => "link", _ => "other" };
                        // Directory sizes and link counts differ by file system (ext4: 4096; tmpfs: 40 + 20 per entry).
                        return "ok:" + type + " " + Convert.ToString(mode & 0xFFF, 8) + (type == "dir" ? "" : " size " + size + " links " + links);
                    }
            }
            throw new ArgumentException("unknown step " + line);
        }
        finally
        {
            foreach (var h in pinned) h.Free();
        }
    }

    private static string HostRoot = "";

    /// <summary>Whether the scripts run on a file system on a disk image (LinuxVfsDiskDifferentialTests).</summary>
    protected virtual bool OnDisk => false;

    private void RunScript(string script)
    {
        string hostDirectory = Path.Combine(HostTar.TempDirectory(), "w"); // named like the VFS's /tmp/w
        Directory.CreateDirectory(hostDirectory);
        HostRoot = hostDirectory;
        var host = new HostExecutor(hostDirectory);
        var vfs = new VfsExecutor(OnDisk);
        var mismatches = new List<string>();
        int steps = 0;
        foreach (string raw in script.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string expected = Step(host, line), actual = Step(vfs, line);
            steps++;
            if (expected != actual) mismatches.Add($"{line,-50} linux: {expected,-28} vfs: {actual}");
        }
        Assert.That(steps, Is.GreaterThan(5));
        Assert.That(mismatches, Is.Empty, "steps whose outcome differs from Linux:\n" + string.Join("\n", mismatches));
        if (vfs.Disk != null)
        {
            Assert.That(vfs.Disk.Unmount(), Is.EqualTo(0), vfs.Disk.LastError);
            Ext2Tools.AssertClean(vfs.Image!.Bytes, "after the script");
        }
    }

    [Test]
    public void DirectoriesMatchLinux() => RunScript(@"
        mkdir a
        mkdir a
        mkdir a/
        mkdir b/
        mkdir missing/x
        mkdir .
        mkdir ..
        write f hello
        mkdir f/x
        rmdir f
        rmdir a/.
        rmdir a/..
        rmdir .
        mkdir a/inner
        rmdir a
        rmdir a/inner/
        rmdir a
        stat a
        unlink b
        rmdir b/
        rmdir nothere
        mkdir " + new string('n', 255) + @"
        mkdir " + new string('n', 256) + @"
        stat " + new string('n', 256) + @"/x
    ");

    [Test]
    public void FilesAndOpenFlagsMatchLinux() => RunScript(@"
        open new RDONLY
        open new CREAT|WRONLY
        stat new
        open new CREAT|EXCL|WRONLY
        open new/ RDONLY
        open other/ CREAT|WRONLY
        open new DIRECTORY
        mkdir d
        open d WRONLY
        open d RDWR
        open d RDONLY
        open d CREAT|RDONLY
        open d DIRECTORY
        open d PATH
        open d/ RDONLY
        write new hello
        write new world
        cat new
        write new X TRUNC|WRONLY
        cat new
        stat new
        truncate new 10
        stat new
        truncate new 2
        cat new
        truncate d 0
        truncate nothere 0
        seek new 0 2
        seek new -1 0
        seek new 5 0
        seek new 100 1
        seek new 0 9
        seek d 0 0
        unlink new
        unlink new
        unlink d
        unlink d/
        cat d
        access d 1
        write plain x
        access plain 0
        access plain 1
        access plain 6
        access nothere 0
        unlink plain/
    ");

    [Test]
    public void SymbolicLinksMatchLinux() => RunScript(@"
        write target content
        symlink target l
        readlink l
        cat l
        stat l
        lstat l
        readlink target
        symlink nowhere dangling
        cat dangling
        stat dangling
        lstat dangling
        write dangling made
        cat nowhere
        symlink again l
        symlink x EMPTY
        symlink EMPTY x
        open l NOFOLLOW|RDONLY
        open l PATH|NOFOLLOW
        symlink loop2 loop1
        symlink loop1 loop2
        cat loop1
        stat loop1
        lstat loop1
        open loop1 CREAT|WRONLY
        mkdir dir
        write dir/inside yes
        symlink dir ldir
        cat ldir/inside
        stat ldir/
        lstat ldir/
        rmdir ldir
        rmdir ldir/
        unlink ldir/
        symlink /etc/../nonexistent abs
        stat abs
        symlink target/ slash
        cat slash
        symlink dangling2/ sl2
        open sl2 CREAT|WRONLY
        open dangling CREAT|EXCL|WRONLY
        unlink l
        cat target
        symlink ../w/target rel
        cat rel
    ");

    [Test]
    public void SymlinkChainsOf40AreFollowedAnd41AreLoops()
    {
        var lines = new StringBuilder("write t end\nsymlink t c0\n");
        for (int i = 1; i <= 41; i++) lines.Append($"symlink c{i - 1} c{i}\n");
        lines.Append("cat c39\ncat c40\ncat c41\nstat c40\nstat c41\nlstat c41\n");
        RunScript(lines.ToString());
    }

    [Test]
    public void RenameAndLinkMatchLinux() => RunScript(@"
        write a one
        write b two
        rename a b
        cat b
        stat a
        rename missing x
        mkdir d1
        mkdir d2
        write d2/f x
        rename d1 d2
        rename b d1
        rename d1 b
        rename d2/f d1
        rename d1 d1/sub
        rename d1 d1
        rename b b
        mkdir d1/deep
        rename d1 d1/deep/x
        rename d2/f d2/g
        rename . x
        rename d2/.. x
        rename d2/g y/
        rename d2/g y
        cat y
        write n1 a
        write n2 b
        rename n1 n2 NOREPLACE
        rename n1 n2 EXCHANGE
        cat n1
        cat n2
        rename n1 n3 EXCHANGE
        rename n1 n2 NOREPLACE|EXCHANGE
        rmdir d2
        mkdir empty
        rename d1 empty
        stat d1
        stat empty
        link n1 h1
        stat n1
        link n1 h1
        link empty h2
        link missing h3
        link n1 h4/
        unlink h1
        stat n1
        symlink n1 ln
        link ln hl
        lstat hl
        link ln hf SYMLINK_FOLLOW
        lstat hf
        rename y y2/
        rename empty empty2/
        stat empty2
    ");
}

/// <summary>The same scripts with / on a file system on a disk image (DiskTree over ext3 made by
/// mke2fs): the outcomes must still be Linux's, and e2fsck -fn must find the image clean after each.</summary>
public sealed class LinuxVfsDiskDifferentialTests : LinuxVfsDifferentialTests
{
    protected override bool OnDisk => true;
}
