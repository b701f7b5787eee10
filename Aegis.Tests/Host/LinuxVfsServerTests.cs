#nullable enable
// The shared file tree (VfsServer, VfsClient, FileSystem's hand-overs): several "processes" (each
// a LinuxFiles with its own /dev and /proc and a VfsClient) talk to one server through a direct
// transport (the server's Handle called with the process's buffer, as the IPC glue does).
// Checked: what one process creates, writes, renames, unlinks or mkdirs the others see at once;
// descriptions are shared after fork (the duplicated server descriptors share the offset);
// /dev and /proc stay each process's own, also when a path walks into them from the server's
// tree; archive files are read in the process's own copy; bad requests get errors and never
// take the server down; exit drops a process's descriptors.
using System.Runtime.InteropServices;
using System.Text;
using Aegis.LibOS.Unixish.Linux;
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

/// <summary>The server's Handle, called directly with the process's buffer.</summary>
public sealed unsafe class DirectTransport : VfsTransport
{
    private readonly VfsServer _server;
    private readonly byte* _buffer;
    private readonly ulong _archiveStart, _archiveEnd;
    public ulong Id;

    public DirectTransport(VfsServer server, ulong id, ulong archiveStart, ulong archiveEnd)
    {
        _server = server;
        Id = id;
        _buffer = (byte*)NativeMemory.AllocZeroed(VfsProtocol.BufferBytes + 4096);
        _archiveStart = archiveStart;
        _archiveEnd = archiveEnd;
    }

    public override byte* Buffer => _buffer;
    public override ulong Identity => Id;
    public override long Call(ulong w0, ulong w1, ulong w2, ulong w3, out ulong reply1) =>
        _server.Handle(Id, w0, w1, w2, w3, _buffer, LendAsked ? VfsProtocol.BufferBytes + 4096 : VfsProtocol.BufferBytes, out reply1);
    /// <summary>The lend page follows the buffer, as in the machine (VfsProtocol.LendPage); registered by AskLend.</summary>
    public bool LendAsked;
    public override byte* Lend => LendAsked ? _buffer + VfsProtocol.BufferBytes : null;
    public override void AskLend() => LendAsked = true;
    public override bool InArchive(ulong address, long length) =>
        length >= 0 && address >= _archiveStart && address + (ulong)length <= _archiveEnd;
}

/// <summary>One server tree (with an optional archive) and processes attached to it.</summary>
public sealed unsafe class SharedTree
{
    public long Time = 1_700_000_000_000_000_000;
    public readonly FileSystem ServerFs;
    public readonly VfsServer Server;
    private readonly ulong _archiveStart, _archiveEnd;

    public SharedTree(byte[]? archive = null)
    {
        var sources = new FileSystemSources { System = new FakeSystem(), Clock = () => Time };
        ServerFs = new FileSystem(sources, null);
        if (archive != null)
        {
            GCHandle handle = GCHandle.Alloc(archive, GCHandleType.Pinned);
            _archiveStart = (ulong)handle.AddrOfPinnedObject();
            _archiveEnd = _archiveStart + (ulong)archive.Length;
            string? error = ServerFs.LoadArchive((byte*)_archiveStart, archive.Length);
            if (error != null) throw new InvalidOperationException(error);
        }
        Server = new VfsServer(ServerFs);
        Server.Broadcast = generation =>
        {
            foreach (SharedProcess process in _processes) *(ulong*)(process.Transport.Buffer + VfsProtocol.Generation) = generation;
        };
        // Each process's readiness board is its buffer's last page, as in the machine (VfsIpc.BoardOf).
        Server.BoardOf = id =>
        {
            foreach (SharedProcess process in _processes)
                if (process.Transport.Id == id) return (IntPtr)process.Transport.Buffer;
            return IntPtr.Zero;
        };
        Server.LendOf = id =>
        {
            foreach (SharedProcess process in _processes)
                if (process.Transport.Id == id) return (IntPtr)process.Transport.Lend;
            return IntPtr.Zero;
        };
        Server.WakeProcess = id => BoardWakes.Add(id);
    }

    /// <summary>The processes the server woke because a board they wait on changed.</summary>
    public readonly List<ulong> BoardWakes = new();

    private readonly List<SharedProcess> _processes = new();

    public SharedProcess Attach(ulong id)
    {
        var process = new SharedProcess(this, id, _archiveStart, _archiveEnd);
        *(ulong*)(process.Transport.Buffer + VfsProtocol.Generation) = Server.Generation; // as Hello does
        _processes.Add(process);
        return process;
    }
}

public sealed unsafe class SharedProcess
{
    public readonly DirectTransport Transport;
    public readonly FileSystem Fs;
    public readonly VfsClient Client;
    public readonly LinuxFiles Files;
    public readonly FakeTerminal Terminal = new();
    public const int AT_FDCWD = -100;

    public SharedProcess(SharedTree tree, ulong id, ulong archiveStart, ulong archiveEnd)
    {
        Transport = new DirectTransport(tree.Server, id, archiveStart, archiveEnd);
        var processes = new FakeProcesses();
        processes.All[7] = new ProcessStatus { Pid = 7, Name = "p" + id };
        Fs = new FileSystem(new FileSystemSources { Processes = processes, System = new FakeSystem(), Clock = () => tree.Time }, Terminal);
        Client = new VfsClient(Transport, Fs.RootMount);
        Files = new LinuxFiles(Fs, Client);
        Files.OpenStandardStreams();
    }

    public long Open(string path, int flags, uint mode = 0x1A4) => Files.OpenAt(AT_FDCWD, path, flags, mode);

    public long Write(int fd, string text)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(text);
        fixed (byte* p = bytes) return Files.Write(fd, p, bytes.Length);
    }

    public string Read(int fd, int max = 65536)
    {
        byte[] buffer = new byte[max];
        long n;
        fixed (byte* p = buffer) n = Files.Read(fd, p, max);
        if (n < 0) throw new InvalidOperationException("read failed: " + n);
        return Encoding.Latin1.GetString(buffer, 0, (int)n);
    }

    public void CreateFile(string path, string content)
    {
        long fd = Open(path, LinuxFile.O_CREAT | LinuxFile.O_WRONLY | LinuxFile.O_TRUNC);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), "open " + path);
        Assert.That(Write((int)fd, content), Is.EqualTo(content.Length));
        Assert.That(Files.Close((int)fd), Is.EqualTo(0));
    }

    public string ReadFile(string path)
    {
        long fd = Open(path, LinuxFile.O_RDONLY);
        if (fd < 0) throw new InvalidOperationException("open " + path + ": " + fd);
        var text = new StringBuilder();
        while (true)
        {
            string chunk = Read((int)fd, 3000);
            if (chunk.Length == 0) break;
            text.Append(chunk);
        }
        Files.Close((int)fd);
        return text.ToString();
    }

    public int StatError(string path) => Files.StatAt(AT_FDCWD, path, 0, out _);

    public List<string> List(string path)
    {
        long fd = Open(path, LinuxFile.O_DIRECTORY);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), "open " + path);
        var names = new List<string>();
        byte[] buffer = new byte[300];
        while (true)
        {
            long n;
            fixed (byte* p = buffer) n = Files.GetDirectoryEntries((int)fd, p, buffer.Length);
            Assert.That(n, Is.GreaterThanOrEqualTo(0));
            if (n == 0) break;
            for (int at = 0; at < n;)
            {
                int reclen = BitConverter.ToUInt16(buffer, at + 16);
                int end = Array.IndexOf(buffer, (byte)0, at + 19);
                names.Add(Encoding.Latin1.GetString(buffer, at + 19, end - at - 19));
                at += reclen;
            }
        }
        Files.Close((int)fd);
        return names;
    }
}

public unsafe class LinuxVfsServerTests
{
    [DllImport("libc", SetLastError = true)] private static extern int chmod(string path, uint mode);

    private const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_TRUNC = 0x200, O_APPEND = 0x400;

    [Test]
    public void WhatOneProcessDoesToTheTreeTheOthersSeeAtOnce()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10), b = tree.Attach(11);
        a.CreateFile("/tmp/x", "hello");
        Assert.That(b.ReadFile("/tmp/x"), Is.EqualTo("hello"), "created and written by a, read by b");
        Assert.That(b.Files.RenameAt(-100, "/tmp/x", -100, "/tmp/y", 0), Is.EqualTo(0));
        Assert.That(a.StatError("/tmp/x"), Is.EqualTo(-Errno.ENOENT), "renamed by b: gone for a");
        Assert.That(a.ReadFile("/tmp/y"), Is.EqualTo("hello"));
        Assert.That(a.Files.MakeDirectoryAt(-100, "/tmp/d", 0x1FF), Is.EqualTo(0));
        Assert.That(b.List("/tmp"), Is.EquivalentTo(new[] { ".", "..", "y", "d" }));
        Assert.That(a.Files.UnlinkAt(-100, "/tmp/y", 0), Is.EqualTo(0));
        Assert.That(b.StatError("/tmp/y"), Is.EqualTo(-Errno.ENOENT), "unlinked by a: gone for b");
        Assert.That(b.Files.StatAt(-100, "/tmp/d", 0, out StatInfo d), Is.EqualTo(0));
        Assert.That(d.Mode, Is.EqualTo(LinuxFile.S_IFDIR | 0x1ED), "mkdir's mode less a's umask 022");
    }

    [Test]
    public void ProcAegisFileServerCountsTheServersRequestsByOperation()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10), b = tree.Attach(11);
        a.Fs.Sources.FileServerCalls = calls => a.Client.ServerCalls(calls);
        // The lines "NAME COUNT", as (names, counts).
        (string[] Names, long[] Counts) Read()
        {
            string[] lines = a.ReadFile("/proc/aegis/file_server").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var names = new string[lines.Length];
            var counts = new long[lines.Length];
            for (int i = 0; i < lines.Length; i++)
            {
                string[] fields = lines[i].Split(' ');
                Assert.That(fields, Has.Length.EqualTo(2), lines[i]);
                names[i] = fields[0];
                counts[i] = long.Parse(fields[1]);
            }
            return (names, counts);
        }
        (string[] Names, long[] Counts) before = Read();
        Assert.That(before.Names, Is.EqualTo(VfsProtocol.Names[1..].Append("ended_without_goodbye")), "every operation, in the protocol's order, then the processes let go of without Goodbye");
        Assert.That(before.Counts[^1], Is.Zero);
        b.CreateFile("/tmp/x", "hello"); // open, write; the close rides along with the next request
        for (int i = 0; i < 3; i++) Assert.That(b.StatError("/tmp/x"), Is.EqualTo(0));
        Assert.That(a.StatError("/tmp/none"), Is.EqualTo(-Errno.ENOENT));
        long[] after = Read().Counts;
        long Delta(int op) => after[op - 1] - before.Counts[op - 1];
        Assert.That(Delta(VfsProtocol.Open), Is.EqualTo(1), "b's open (a's /proc file is its own)");
        Assert.That(Delta(VfsProtocol.Write), Is.EqualTo(1));
        Assert.That(Delta(VfsProtocol.Stat), Is.EqualTo(2), "b's first (its client answers the next two from its cache) and a's, counted by the one server");
        Assert.That(Delta(VfsProtocol.ServerCalls), Is.EqualTo(1), "the first reading's own request");
        a.Fs.Sources.FileServerCalls = null;
        Assert.That(a.ReadFile("/proc/aegis/file_server"), Is.Empty, "no server: nothing");
    }

    [Test]
    public void AnOpenFileWrittenByOneProcessIsReadByAnotherThroughItsOwnDescription()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10), b = tree.Attach(11);
        long w = a.Open("/tmp/log", O_CREAT | O_WRONLY | O_APPEND);
        long r = b.Open("/tmp/log", O_CREAT | O_RDONLY);
        Assert.That(a.Write((int)w, "one\n"), Is.EqualTo(4));
        Assert.That(b.Read((int)r), Is.EqualTo("one\n"));
        long w2 = b.Open("/tmp/log", O_WRONLY | O_APPEND);
        Assert.That(b.Write((int)w2, "two\n"), Is.EqualTo(4));
        Assert.That(a.Write((int)w, "three\n"), Is.EqualTo(6));
        Assert.That(b.Read((int)r), Is.EqualTo("two\nthree\n"), "appends from two processes, in order, none overwritten");
    }

    [Test]
    public void AForkedChildSharesTheDescriptionAndItsOffset()
    {
        var tree = new SharedTree();
        SharedProcess p = tree.Attach(20);
        long fd = p.Open("/tmp/f", O_CREAT | O_WRONLY | O_TRUNC);
        Assert.That(p.Write((int)fd, "a\n"), Is.EqualTo(2));
        int before = tree.Server.DescriptorsOf(20);
        Assert.That(p.Client.BeforeFork(21), Is.EqualTo(0));
        Assert.That(tree.Server.DescriptorsOf(21), Is.EqualTo(before), "every descriptor duplicated for the child");
        RemoteHandle h = ((IRemoteNode)p.Files.Table.Get((int)fd)!.Node).Handle;
        int parentFd = h.ServerFd;
        // The process's memory now plays the child (what fork's copy does): its handles adopt the duplicates.
        p.Transport.Id = 21;
        Assert.That(p.Write((int)fd, "b\n"), Is.EqualTo(2));
        Assert.That(h.ServerFd, Is.Not.EqualTo(parentFd), "the child uses its duplicate");
        Assert.That(p.Files.Close((int)fd), Is.EqualTo(0));
        p.Client.Flush();
        Assert.That(tree.Server.DescriptorsOf(21), Is.EqualTo(before - 1), "the child's close dropped its duplicate");
        Assert.That(tree.Server.DescriptorsOf(20), Is.EqualTo(before), "the parent's descriptors stay");
        SharedProcess reader = tree.Attach(22);
        Assert.That(reader.ReadFile("/tmp/f"), Is.EqualTo("a\nb\n"), "the child wrote at the shared offset, after the parent's line");
    }

    [Test]
    public void ALinkFromDevToANameThatWalksIntoTheServersTreeIsExdev()
    {
        // Found by the Linux-ABI fuzzer: link() returned the walk's internal hand-over code (-100000).
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10);
        foreach (string path in new[] { "/dev/../tmp/x", "/proc/../tmp/x" })
            Assert.That(a.Files.LinkAt(-100, "/dev/null", -100, path, 0), Is.EqualTo(-Errno.EXDEV), path);
        Assert.That(a.Files.StatAt(-100, "/tmp/x", 0, out _), Is.EqualTo(-Errno.ENOENT), "no name was made");
    }

    [Test]
    public void DevAndProcStayTheProcesssOwnAlsoWhenAPathWalksIntoThem()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10);
        foreach (string path in new[] { "/dev/null", "/tmp/../dev/null", "//dev/./null", "/tmp/../../dev/null" })
        {
            long fd = a.Open(path, O_WRONLY);
            Assert.That(fd, Is.GreaterThanOrEqualTo(0), path);
            Assert.That(a.Files.Table.Get((int)fd)!.Node, Is.InstanceOf<DeviceNode>(), path + " is this process's /dev/null");
            a.Files.Close((int)fd);
        }
        Assert.That(a.Files.ChangeDirectory("/tmp"), Is.EqualTo(0));
        long rel = a.Open("../dev/zero", O_RDONLY);
        Assert.That(a.Files.Table.Get((int)rel)!.Node, Is.InstanceOf<DeviceNode>(), "relative from a server cwd into /dev");
        Assert.That(a.List("/dev"), Does.Contain("null").And.Contain("console"), "/dev lists the process's devices");
        Assert.That(a.Files.StatAt(-100, "/proc/self", 0, out _), Is.EqualTo(0));
        Assert.That(a.Files.ReadLinkAt(-100, "/proc/self/cwd", out string cwd), Is.EqualTo(0));
        Assert.That(cwd, Is.EqualTo("/tmp"), "/proc/self/cwd names the server directory the process is in");
        a.CreateFile("/tmp/in-tmp", "via proc");
        Assert.That(a.ReadFile("/proc/self/cwd/in-tmp"), Is.EqualTo("via proc"), "a walk from /proc back into the server's tree");
        Assert.That(a.Files.SymlinkAt("/dev/null", -100, "/tmp/to-null"), Is.EqualTo(0));
        long linked = a.Open("/tmp/to-null", O_WRONLY);
        Assert.That(a.Files.Table.Get((int)linked)!.Node, Is.InstanceOf<DeviceNode>(), "a server symlink into /dev");
        Assert.That(a.Files.MakeDirectoryAt(-100, "/dev/x", 0x1FF), Is.EqualTo(-Errno.EPERM).Or.EqualTo(-Errno.EEXIST).Or.EqualTo(0));
    }

    [Test]
    public void CwdIsAServerDirectoryEveryPathOperationStartsFrom()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10), b = tree.Attach(11);
        Assert.That(a.Files.MakeDirectoryAt(-100, "/tmp/d", 0x1FF), Is.EqualTo(0));
        Assert.That(a.Files.ChangeDirectory("/tmp/d"), Is.EqualTo(0));
        a.CreateFile("z", "");
        Assert.That(a.Files.GetCwd(out string cwd), Is.EqualTo(0));
        Assert.That(cwd, Is.EqualTo("/tmp/d"));
        Assert.That(b.List("/tmp/d"), Is.EquivalentTo(new[] { ".", "..", "z" }), "b sees what a made relative to its cwd");
        Assert.That(b.Files.UnlinkAt(-100, "/tmp/d", LinuxFile.AT_REMOVEDIR), Is.EqualTo(-Errno.ENOTEMPTY));
        Assert.That(b.Files.UnlinkAt(-100, "/tmp/d/z", 0), Is.EqualTo(0));
        Assert.That(b.Files.UnlinkAt(-100, "/tmp/d", LinuxFile.AT_REMOVEDIR), Is.EqualTo(0));
        Assert.That(a.Files.GetCwd(out _), Is.EqualTo(-Errno.ENOENT), "a's cwd was removed by b");
        Assert.That(a.Open("new", O_CREAT | O_WRONLY), Is.EqualTo(-Errno.ENOENT));
    }

    /// <summary>A root archive (tar, as the build makes it) holding one file, TOP/NAME, with that content and mode.</summary>
    private static byte[] ArchiveOf(string top, string name, string content, int mode)
    {
        string dir = Path.Combine(Path.GetTempPath(), "aegis-vfs-archive-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, top));
        File.WriteAllText(Path.Combine(dir, top, name), content);
        Assert.That(chmod(Path.Combine(dir, top, name), (uint)mode), Is.EqualTo(0));
        byte[] archive = HostTar.Create(dir, top);
        Directory.Delete(dir, true);
        return archive;
    }

    [Test]
    public void ArchiveFilesAreReadInTheProcesssOwnCopyWithoutRequests()
    {
        string content = new string('x', 20000) + "end";
        var tree = new SharedTree(ArchiveOf("bin", "tool", content, 0x1ED)); // 0755
        SharedProcess a = tree.Attach(10);
        long fd = a.Open("/bin/tool", O_RDONLY);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        ulong requests = tree.Server.Requests;
        Assert.That(a.Read((int)fd, 19998).Length, Is.EqualTo(19998));
        Assert.That(a.Read((int)fd), Is.EqualTo("xxend"));
        Assert.That(a.Files.Seek((int)fd, -3, LinuxFile.SEEK_END), Is.EqualTo(20000));
        Assert.That(tree.Server.Requests, Is.EqualTo(requests), "reads and seeks of an unshared archive file stay in the process");
        Assert.That(a.Files.ExecutableBytes("/bin/tool", out byte* data, out long length), Is.EqualTo(0));
        Assert.That(length, Is.EqualTo(content.Length));
        Assert.That(Marshal.PtrToStringAnsi((nint)data + 20000, 3), Is.EqualTo("end"));
        // After a fork shares it, the position is the server's: it starts where the process was.
        Assert.That(a.Client.BeforeFork(11), Is.EqualTo(0));
        Assert.That(a.Read((int)fd), Is.EqualTo("end"));
        // A program written to /tmp by another process runs from a copy.
        SharedProcess b = tree.Attach(12);
        long made = b.Open("/tmp/prog", O_CREAT | O_WRONLY, 0x1ED);
        Assert.That(b.Write((int)made, "#!prog"), Is.EqualTo(6));
        Assert.That(a.Files.ExecutableBytes("/tmp/prog", out data, out length), Is.EqualTo(0));
        Assert.That(Marshal.PtrToStringAnsi((nint)data, (int)length), Is.EqualTo("#!prog"));
        Assert.That(a.Files.ExecutableBytes("/tmp", out _, out _), Is.EqualTo(-Errno.EACCES));
        Assert.That(a.Files.ExecutableBytes("/nope", out _, out _), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void AnArchiveFileOpenedAgainAsksNothingAndSendfileCarriesItsBytesInOneCall()
    {
        string content = new string('k', 1000) + "\n";
        var tree = new SharedTree(ArchiveOf("www", "1k.txt", content, 0x1A4)); // 0644
        SharedProcess a = tree.Attach(10);
        const int O_NONBLOCK = 0x800, F_GETFL = 3;
        // As nginx does for every request: open with O_NONBLOCK, fstat, sendfile, close.
        long fd = a.Open("/www/1k.txt", O_RDONLY | O_NONBLOCK);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        a.Files.Close((int)fd);
        ulong requests = tree.Server.Requests;
        fd = a.Open("/www/1k.txt", O_RDONLY | O_NONBLOCK);
        Assert.That(a.Client.AnchoredOpens, Is.EqualTo(1), "opened from the anchor the close left");
        Assert.That(a.Files.Fstat((int)fd, out StatInfo stat), Is.EqualTo(0));
        Assert.That(stat.Size, Is.EqualTo(content.Length));
        Assert.That(tree.Server.Requests, Is.EqualTo(requests), "open and fstat asked the server nothing");
        // sendfile into a socket: the archive's bytes in one call, no description made for the file.
        Assert.That(a.Client.SocketPair(LinuxSocket.AF_UNIX, LinuxSocket.SOCK_STREAM, 0, out RemoteSocket first, out RemoteSocket second), Is.EqualTo(0));
        var file = (RemoteFile)a.Files.Table.Get((int)fd).Node;
        requests = tree.Server.Requests;
        Assert.That(a.Client.SendFile(first, file, 0, 4096), Is.EqualTo(content.Length), "the count is cut at the end of the file");
        Assert.That(tree.Server.Requests, Is.EqualTo(requests + 1));
        Assert.That(a.Client.SendFile(first, file, content.Length, 10), Is.EqualTo(0), "at the end: nothing");
        byte[] got = new byte[2000];
        long received;
        fixed (byte* q = got) received = a.Client.Receive(second, q, got.Length, 0, null, out _);
        Assert.That(Encoding.ASCII.GetString(got, 0, (int)received), Is.EqualTo(content));
        // F_GETFL makes the server's description: it has the open's O_NONBLOCK.
        Assert.That(a.Files.Fcntl((int)fd, F_GETFL, 0) & O_NONBLOCK, Is.EqualTo(O_NONBLOCK));
        a.Files.Close((int)fd);
        // A sendfile larger than one call's data makes the description as it goes (a Reopen inside
        // the call): the bytes still start at the offset asked (the Reopen's reply once overwrote it).
        fd = a.Open("/www/1k.txt", O_RDONLY | O_NONBLOCK);
        Assert.That(a.Client.AnchoredOpens, Is.EqualTo(2));
        file = (RemoteFile)a.Files.Table.Get((int)fd).Node;
        Assert.That(a.Client.SendFile(first, file, 500, 100_000), Is.EqualTo(content.Length - 500));
        fixed (byte* q = got) received = a.Client.Receive(second, q, got.Length, 0, null, out _);
        Assert.That(Encoding.ASCII.GetString(got, 0, (int)received), Is.EqualTo(content.Substring(500)));
        a.Files.Close((int)fd);
        // A change to the tree ends the anchor: the next open asks the server.
        SharedProcess b = tree.Attach(11);
        b.CreateFile("/tmp/x", "1");
        requests = tree.Server.Requests;
        fd = a.Open("/www/1k.txt", O_RDONLY | O_NONBLOCK);
        Assert.That(tree.Server.Requests, Is.GreaterThan(requests));
        Assert.That(a.Read((int)fd, 5), Is.EqualTo("kkkkk"));
    }

    [Test]
    public void StatAnswersAreKeptWhileNothingChangesAndNeverAfter()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10), b = tree.Attach(11);
        a.CreateFile("/tmp/s", "12345");
        Assert.That(a.Files.StatAt(-100, "/tmp/s", 0, out StatInfo first), Is.EqualTo(0));
        ulong requests = tree.Server.Requests;
        Assert.That(a.Files.StatAt(-100, "/tmp/s", 0, out StatInfo again), Is.EqualTo(0));
        Assert.That(tree.Server.Requests, Is.EqualTo(requests), "the second stat is answered from the cache");
        Assert.That(again.Size, Is.EqualTo(5));
        Assert.That(a.StatError("/tmp/none"), Is.EqualTo(-Errno.ENOENT));
        Assert.That(a.StatError("/tmp/none"), Is.EqualTo(-Errno.ENOENT));
        Assert.That(a.Client.StatCacheHits, Is.EqualTo(2), "ENOENT is kept too");
        // Another process changes the file: the cache must not answer.
        long fd = b.Open("/tmp/s", O_WRONLY | O_APPEND);
        Assert.That(b.Write((int)fd, "678"), Is.EqualTo(3));
        Assert.That(a.Files.StatAt(-100, "/tmp/s", 0, out StatInfo grown), Is.EqualTo(0));
        Assert.That(grown.Size, Is.EqualTo(8), "b's write is seen at once");
        b.CreateFile("/tmp/none", "");
        Assert.That(a.StatError("/tmp/none"), Is.EqualTo(0), "b's create is seen at once");
        Assert.That(b.Files.ChmodAt(-100, "/tmp/s", 0x100, 0), Is.EqualTo(0));
        Assert.That(a.Files.StatAt(-100, "/tmp/s", 0, out StatInfo changed), Is.EqualTo(0));
        Assert.That(changed.Mode & 0xFFF, Is.EqualTo(0x100u));
        Assert.That(b.Files.RenameAt(-100, "/tmp/s", -100, "/tmp/t", 0), Is.EqualTo(0));
        Assert.That(a.StatError("/tmp/s"), Is.EqualTo(-Errno.ENOENT));
        Assert.That(first.Inode, Is.EqualTo(changed.Inode));
    }

    [Test]
    public void AFileOpenedForReadingComesWithItsFirstBytesWhileNothingChanges()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10), b = tree.Attach(11);
        b.CreateFile("/tmp/small", "0123456789");
        long fd = a.Open("/tmp/small", O_RDONLY);
        ulong requests = tree.Server.Requests;
        Assert.That(a.Read((int)fd, 4), Is.EqualTo("0123"));
        Assert.That(a.Read((int)fd, 100), Is.EqualTo("456789"));
        Assert.That(a.Read((int)fd, 100), Is.EqualTo(""), "end of file known without asking");
        Assert.That(tree.Server.Requests, Is.EqualTo(requests), "open's reply carried the bytes");
        Assert.That(a.Files.Seek((int)fd, 2, LinuxFile.SEEK_SET), Is.EqualTo(2));
        // Another process writes: what a reads next is the new content, from the server.
        long w = b.Open("/tmp/small", O_WRONLY);
        Assert.That(b.Write((int)w, "abcdefghijkl"), Is.EqualTo(12));
        Assert.That(a.Read((int)fd, 100), Is.EqualTo("cdefghijkl"));
        Assert.That(a.Files.Seek((int)fd, -1, LinuxFile.SEEK_END), Is.EqualTo(11), "the size is the server's now");
    }

    [Test]
    public void OpeningAFileAgainAsksNothingWhileTheTreeIsUnchangedAndKeepsLinuxSemanticsAfter()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10), b = tree.Attach(11);
        b.CreateFile("/tmp/again", "first");
        Assert.That(a.ReadFile("/tmp/again"), Is.EqualTo("first"));
        ulong requests = tree.Server.Requests;
        Assert.That(a.ReadFile("/tmp/again"), Is.EqualTo("first"));
        Assert.That(tree.Server.Requests, Is.EqualTo(requests), "open + read + close again: no request");
        Assert.That(a.Client.AnchoredOpens, Is.EqualTo(1));
        // b writes between a's open and a's read: a reads the new bytes.
        long fd = a.Open("/tmp/again", O_RDONLY);
        long w = b.Open("/tmp/again", O_WRONLY);
        Assert.That(b.Write((int)w, "FIRST!"), Is.EqualTo(6));
        Assert.That(a.Read((int)fd), Is.EqualTo("FIRST!"));
        a.Files.Close((int)fd);
        // b unlinks between a's open and a's read: the open description still reads the file.
        Assert.That(a.ReadFile("/tmp/again"), Is.EqualTo("FIRST!"));
        fd = a.Open("/tmp/again", O_RDONLY);
        Assert.That(a.Client.AnchoredOpens, Is.EqualTo(3), "a new anchor after the change");
        Assert.That(b.Files.UnlinkAt(-100, "/tmp/again", 0), Is.EqualTo(0));
        Assert.That(a.Files.Fstat((int)fd, out StatInfo gone), Is.EqualTo(0));
        Assert.That(gone.Links, Is.EqualTo(0UL), "fstat of the open, unlinked file");
        Assert.That(a.Read((int)fd), Is.EqualTo("FIRST!"));
        a.Files.Close((int)fd);
        Assert.That(a.Open("/tmp/again", O_RDONLY), Is.EqualTo(-Errno.ENOENT), "the name is gone for a new open");
        // A fork shares a description opened this way: the child continues at the parent's offset.
        b.CreateFile("/tmp/shared", "abcdef");
        Assert.That(a.ReadFile("/tmp/shared"), Is.EqualTo("abcdef"));
        fd = a.Open("/tmp/shared", O_RDONLY);
        Assert.That(a.Read((int)fd, 2), Is.EqualTo("ab"));
        Assert.That(a.Client.BeforeFork(12), Is.EqualTo(0));
        a.Transport.Id = 12;
        Assert.That(a.Read((int)fd, 2), Is.EqualTo("cd"), "the child reads on from the shared offset");
        a.Files.Goodbye();
        Assert.That(tree.Server.DescriptorsOf(12), Is.EqualTo(0));
        Assert.That(tree.Server.DescriptorsOf(10), Is.GreaterThan(0), "the parent's anchor and description stay");
    }

    [Test]
    public void ExitDropsEveryDescriptorAndClosesAreSentWithTheNextRequest()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10);
        long f1 = a.Open("/tmp/1", O_CREAT | O_RDWR), f2 = a.Open("/tmp/2", O_CREAT | O_RDWR);
        Assert.That(a.Files.ChangeDirectory("/tmp"), Is.EqualTo(0));
        Assert.That(tree.Server.DescriptorsOf(10), Is.EqualTo(3), "two files and the cwd");
        Assert.That(a.Files.Close((int)f1), Is.EqualTo(0));
        Assert.That(tree.Server.DescriptorsOf(10), Is.EqualTo(3), "the close waits for the next request");
        Assert.That(a.StatError("/tmp/2"), Is.EqualTo(0));
        Assert.That(tree.Server.DescriptorsOf(10), Is.EqualTo(2));
        Assert.That(a.Files.Dup((int)f2), Is.GreaterThanOrEqualTo(0));
        Assert.That(tree.Server.DescriptorsOf(10), Is.EqualTo(2), "dup shares the process's description: no new server descriptor");
        a.Files.Goodbye();
        Assert.That(tree.Server.DescriptorsOf(10), Is.EqualTo(0));
    }

    [Test]
    public void StatusFlagsBelongToTheSharedDescription()
    {
        var tree = new SharedTree();
        SharedProcess p = tree.Attach(20);
        long fd = p.Open("/tmp/f", O_CREAT | O_WRONLY);
        Assert.That(p.Client.BeforeFork(21), Is.EqualTo(0));
        Assert.That(p.Files.Fcntl((int)fd, LinuxFile.F_SETFL, (ulong)O_APPEND), Is.EqualTo(0), "the parent sets O_APPEND");
        p.Transport.Id = 21; // the child's view of the same description
        Assert.That(p.Files.Fcntl((int)fd, LinuxFile.F_GETFL, 0) & O_APPEND, Is.EqualTo(O_APPEND));
    }

    [Test]
    public void BadRequestsGetErrorsAndTheServerGoesOn()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10), b = tree.Attach(11);
        long fd = a.Open("/tmp/secret", O_CREAT | O_RDWR);
        int serverFd = ((IRemoteNode)a.Files.Table.Get((int)fd)!.Node).Handle.ServerFd;
        byte* buffer = b.Transport.Buffer;
        VfsServer server = tree.Server;
        ulong r1;
        Assert.That(server.Handle(11, VfsProtocol.Read, (ulong)serverFd, 10, 0, buffer, VfsProtocol.BufferBytes, out r1), Is.EqualTo(-Errno.EBADF), "another process's descriptor");
        Assert.That(server.Handle(11, VfsProtocol.Read, ulong.MaxValue, 10, 0, buffer, VfsProtocol.BufferBytes, out r1), Is.EqualTo(-Errno.EBADF));
        Assert.That(server.Handle(10, VfsProtocol.Read, (ulong)serverFd, 1UL << 40, 0, a.Transport.Buffer, VfsProtocol.BufferBytes, out r1), Is.EqualTo(-Errno.EINVAL), "a count past the buffer");
        Assert.That(server.Handle(11, VfsProtocol.Open, unchecked((ulong)-100), 0, 1UL << 31, buffer, VfsProtocol.BufferBytes, out r1), Is.EqualTo(-Errno.ENAMETOOLONG));
        Assert.That(server.Handle(11, VfsProtocol.Rename, unchecked((uint)-100) | ((ulong)unchecked((uint)-100) << 32), 0, 4000UL | (4000UL << 32) , buffer, VfsProtocol.BufferBytes, out r1), Is.LessThan(0));
        Assert.That(server.Handle(11, VfsProtocol.Duplicate, 1UL << 30, 11, 0, buffer, VfsProtocol.BufferBytes, out r1), Is.EqualTo(-Errno.EINVAL));
        Assert.That(server.Handle(11, 200, 0, 0, 0, buffer, VfsProtocol.BufferBytes, out r1), Is.EqualTo(-Errno.ENOSYS));
        Assert.That(server.Handle(11, VfsProtocol.Stat | (200UL << 8), 0, 0, 0, buffer, VfsProtocol.BufferBytes, out r1), Is.EqualTo(-Errno.EINVAL), "more closes than fit");
        Assert.That(server.Handle(11, VfsProtocol.Stat, 0, 0, 0, null, 0, out r1), Is.EqualTo(-Errno.EFAULT), "no buffer");
        // Random requests: never an exception, never a description of a lost.
        var random = new Random(9);
        for (int i = 0; i < 20000; i++)
        {
            for (int j = 0; j < 64; j++) ((ulong*)buffer)[j] = (ulong)random.NextInt64();
            ulong w0 = (ulong)(uint)random.Next(0, VfsProtocol.Count + 2) | ((ulong)(uint)random.Next(0, 4) << 8);
            ulong Word() => random.Next(4) switch { 0 => (ulong)random.Next(0, 64), 1 => unchecked((ulong)-100), 2 => (ulong)random.NextInt64(), _ => (ulong)random.Next(0, 5000) };
            if ((w0 & 0xFF) == VfsProtocol.Goodbye) continue;
            server.Handle(11, w0, Word(), Word(), Word(), buffer, VfsProtocol.BufferBytes, out r1);
        }
        Assert.That(a.Write((int)fd, "still"), Is.EqualTo(5), "a's description survived b's garbage");
        Assert.That(b.ReadFile("/tmp/secret"), Is.EqualTo("still"));
    }
}
