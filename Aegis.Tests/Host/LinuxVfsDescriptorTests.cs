#nullable enable
// The fd table, dup/dup2/dup3, fcntl, pipes, lseek/pread/pwrite, O_APPEND, close-on-exec, /dev
// devices and poll readiness (LinuxFiles, FileTable, OpenFile, Pipe). Where the host kernel can
// answer the same question (pipes, fcntl flags, dup), the expected values are checked against it.
using System.Runtime.InteropServices;
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class LinuxVfsDescriptorTests
{
    [DllImport("libc", SetLastError = true)] private static extern int pipe2(int* fds, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int fcntl(int fd, int command, long argument);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] private static extern nint read(int fd, byte* buffer, nint count);
    [DllImport("libc", SetLastError = true)] private static extern nint write(int fd, byte* buffer, nint count);

    [Test]
    public void StandardStreamsAreTheTerminalReadWrite()
    {
        var vfs = new Vfs();
        for (int fd = 0; fd < 3; fd++)
        {
            OpenFile file = vfs.Files.Table.Get(fd)!;
            Assert.That(file.Node, Is.InstanceOf<DeviceNode>());
            Assert.That(vfs.Files.Fcntl(fd, LinuxFile.F_GETFL, 0), Is.EqualTo(LinuxFile.O_RDWR | LinuxFile.O_LARGEFILE));
        }
        Assert.That(vfs.Write(1, "out"), Is.EqualTo(3));
        Assert.That(vfs.Write(2, "err"), Is.EqualTo(3));
        Assert.That(System.Text.Encoding.ASCII.GetString(vfs.Terminal.Written.ToArray()), Is.EqualTo("outerr"));
        vfs.Terminal.Input.Enqueue((byte)'k');
        Assert.That(vfs.Read(0), Is.EqualTo("k"));
        Assert.That(vfs.Files.Seek(0, 0, 0), Is.EqualTo(-29), "a terminal does not seek: ESPIPE");
        Assert.That(vfs.Files.Table.Get(1), Is.SameAs(vfs.Files.Table.Get(0)), "one description for 0, 1 and 2");
        Assert.That(vfs.Files.Fcntl(0, LinuxFile.F_SETFL, LinuxFile.O_NONBLOCK), Is.EqualTo(0));
        Assert.That(vfs.Files.Fcntl(2, LinuxFile.F_GETFL, 0) & LinuxFile.O_NONBLOCK, Is.EqualTo(LinuxFile.O_NONBLOCK));
    }

    [Test]
    public void PipeFlagsAndEndsMatchTheHost()
    {
        int* host = stackalloc int[2];
        Assert.That(pipe2(host, LinuxFile.O_NONBLOCK | LinuxFile.O_CLOEXEC), Is.EqualTo(0));
        long hostReadFlags = fcntl(host[0], LinuxFile.F_GETFL, 0), hostWriteFlags = fcntl(host[1], LinuxFile.F_GETFL, 0);
        long hostFd = fcntl(host[0], LinuxFile.F_GETFD, 0);
        byte b = 0;
        nint hostEmpty = read(host[0], &b, 1);
        int hostErrno = Marshal.GetLastPInvokeError();
        close(host[1]);
        nint hostEnd = read(host[0], &b, 1);
        close(host[0]);

        var vfs = new Vfs();
        Assert.That(vfs.Files.Pipe2(LinuxFile.O_NONBLOCK | LinuxFile.O_CLOEXEC, out int r, out int w), Is.EqualTo(0));
        Assert.That((r, w), Is.EqualTo((3, 4)), "lowest free descriptors");
        Assert.That(vfs.Files.Fcntl(r, LinuxFile.F_GETFL, 0), Is.EqualTo(hostReadFlags));
        Assert.That(vfs.Files.Fcntl(w, LinuxFile.F_GETFL, 0), Is.EqualTo(hostWriteFlags));
        Assert.That(vfs.Files.Fcntl(r, LinuxFile.F_GETFD, 0), Is.EqualTo(hostFd));
        Assert.That(hostEmpty, Is.EqualTo((nint)(-1)));
        Assert.That(vfs.ReadResult(r, 1), Is.EqualTo((long)-hostErrno), "empty non-blocking pipe: EAGAIN");
        Assert.That(vfs.Files.Close(w), Is.EqualTo(0));
        Assert.That(vfs.ReadResult(r, 1), Is.EqualTo((long)hostEnd), "no writer left: end of file");
    }

    [Test]
    public void PipeCarriesBytesInOrderAcrossTheRingEnd()
    {
        var vfs = new Vfs();
        Assert.That(vfs.Files.Pipe2(0, out int r, out int w), Is.EqualTo(0));
        var random = new Random(3);
        var expected = new List<byte>();
        var got = new List<byte>();
        for (int round = 0; round < 200; round++)
        {
            byte[] chunk = new byte[random.Next(1, 9000)];
            random.NextBytes(chunk);
            long n = vfs.Write(w, chunk);
            Assert.That(n, Is.GreaterThan(0));
            for (int i = 0; i < n; i++) expected.Add(chunk[i]);
            byte[] buffer = new byte[random.Next(1, 12000)];
            long m;
            fixed (byte* p = buffer) m = vfs.Files.Read(r, p, buffer.Length);
            Assert.That(m, Is.GreaterThan(0));
            for (int i = 0; i < m; i++) got.Add(buffer[i]);
        }
        while (true)
        {
            byte[] buffer = new byte[65536];
            long m;
            fixed (byte* p = buffer) m = vfs.Files.Read(r, p, buffer.Length);
            if (m == -35) break; // EDEADLK: empty with a writer in this same process (documented limit)
            Assert.That(m, Is.GreaterThan(0));
            for (int i = 0; i < m; i++) got.Add(buffer[i]);
        }
        Assert.That(got, Is.EqualTo(expected));
    }

    /// <summary>OpenFile.Read/Write send a pipe straight to its Pipe (the pipe round trip's fast
    /// path): the answers stay ReadAt/WriteAt's: EBADF for the wrong end, EINVAL for a negative
    /// length, no position kept, and the positional calls still ESPIPE.</summary>
    [Test]
    public void PipeEndsAnswerAsTheGeneralReadAndWrite()
    {
        var vfs = new Vfs();
        Assert.That(vfs.Files.Pipe2(LinuxFile.O_NONBLOCK, out int r, out int w), Is.EqualTo(0));
        OpenFile reader = vfs.Files.Table.Get(r)!, writer = vfs.Files.Table.Get(w)!;
        byte* bytes = stackalloc byte[4];
        bytes[0] = 1; bytes[1] = 2; bytes[2] = 3;
        Assert.That(reader.Write(bytes, 1), Is.EqualTo(-9L), "write on the read end: EBADF");
        Assert.That(writer.Read(bytes, 1), Is.EqualTo(-9L), "read on the write end: EBADF");
        Assert.That(writer.Write(bytes, -1), Is.EqualTo(-22L), "negative length: EINVAL");
        Assert.That(reader.Read(bytes, -1), Is.EqualTo(-22L));
        Assert.That(writer.Write(bytes, 3), Is.EqualTo(3L));
        Assert.That(writer.Position, Is.EqualTo(0L), "a pipe keeps no position");
        Assert.That(reader.ReadAt(0, bytes, 1, false), Is.EqualTo(-29L), "pread on a pipe: ESPIPE");
        Assert.That(writer.WriteAt(0, bytes, 1, false), Is.EqualTo(-29L), "pwrite on a pipe: ESPIPE");
        Assert.That(reader.Read(bytes + 1, long.MaxValue), Is.EqualTo(3L), "a huge length is clamped, not refused");
        Assert.That(reader.Position, Is.EqualTo(0L));
        Assert.That(bytes[1] == 1 && bytes[2] == 2 && bytes[3] == 3, Is.True, "the bytes, in order");
        Assert.That(reader.Read(bytes, 1), Is.EqualTo(-11L), "empty, non-blocking: EAGAIN");
    }

    [Test]
    public void PipeWriteWithoutReadersIsEpipeAndFullPipeIsEagainWhenNonBlocking()
    {
        var vfs = new Vfs();
        Assert.That(vfs.Files.Pipe2(LinuxFile.O_NONBLOCK, out int r, out int w), Is.EqualTo(0));
        byte[] big = new byte[70000];
        Assert.That(vfs.Write(w, big), Is.EqualTo(65536), "a partial write up to the 64 KiB capacity");
        Assert.That(vfs.Write(w, "x"), Is.EqualTo(-11));
        Assert.That(vfs.Files.Ioctl_FionRead(r), Is.EqualTo(65536));
        Assert.That(vfs.Files.Seek(r, 0, 0), Is.EqualTo(-29), "ESPIPE");
        Assert.That(vfs.Files.PRead(r, null, 0, 0), Is.EqualTo(-29));
        Assert.That(vfs.Files.Close(r), Is.EqualTo(0));
        Assert.That(vfs.Write(w, "x"), Is.EqualTo(-32), "EPIPE");
        Assert.That(vfs.Files.Poll(w, 4) & 8, Is.EqualTo(8), "POLLERR without readers");
    }

    [Test]
    public void PipeSmallWritesAreAtomic()
    {
        var vfs = new Vfs();
        Assert.That(vfs.Files.Pipe2(LinuxFile.O_NONBLOCK, out int r, out int w), Is.EqualTo(0));
        Assert.That(vfs.Write(w, new byte[65536 - 100]), Is.EqualTo(65436));
        Assert.That(vfs.Write(w, new byte[200]), Is.EqualTo(-11), "200 <= PIPE_BUF bytes do not fit: nothing written");
        Assert.That(vfs.Write(w, new byte[5000]), Is.EqualTo(100), "more than PIPE_BUF: partial");
    }

    [Test]
    public void PollReportsPipeReadinessAndHangup()
    {
        var vfs = new Vfs();
        Assert.That(vfs.Files.Pipe2(0, out int r, out int w), Is.EqualTo(0));
        Assert.That(vfs.Files.Poll(r, 1), Is.EqualTo(0));
        Assert.That(vfs.Files.Poll(w, 4), Is.EqualTo(4));
        vfs.Write(w, "a");
        Assert.That(vfs.Files.Poll(r, 1), Is.EqualTo(1));
        vfs.Files.Close(w);
        Assert.That(vfs.Files.Poll(r, 1), Is.EqualTo(1 | 0x10), "data and POLLHUP");
        Assert.That(vfs.Files.Poll(99, 1), Is.EqualTo(0x20), "POLLNVAL");
        Assert.That(vfs.Files.Poll(-1, 1), Is.EqualTo(0), "negative fds are ignored");
        long fd = vfs.Open("/tmp/f", 0x42);
        Assert.That(vfs.Files.Poll((int)fd, 5), Is.EqualTo(5), "regular files are always ready");
    }

    [Test]
    public void DupSharesTheOffsetAndStatusFlagsButNotCloseOnExec()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/f", "abcdef");
        int fd = (int)vfs.Open("/tmp/f", LinuxFile.O_RDWR | LinuxFile.O_CLOEXEC);
        Assert.That(vfs.Files.Fcntl(fd, LinuxFile.F_GETFD, 0), Is.EqualTo(1));
        int copy = (int)vfs.Files.Dup(fd);
        Assert.That(copy, Is.EqualTo(fd + 1));
        Assert.That(vfs.Files.Fcntl(copy, LinuxFile.F_GETFD, 0), Is.EqualTo(0));
        Assert.That(vfs.Read(fd, 2), Is.EqualTo("ab"));
        Assert.That(vfs.Read(copy, 2), Is.EqualTo("cd"), "one offset");
        Assert.That(vfs.Files.Fcntl(copy, LinuxFile.F_SETFL, LinuxFile.O_APPEND | LinuxFile.O_NONBLOCK | LinuxFile.O_RDONLY), Is.EqualTo(0));
        Assert.That(vfs.Files.Fcntl(fd, LinuxFile.F_GETFL, 0), Is.EqualTo(LinuxFile.O_RDWR | LinuxFile.O_APPEND | LinuxFile.O_NONBLOCK | LinuxFile.O_LARGEFILE),
            "status flags are the description's; the access mode does not change");
        Assert.That(vfs.Files.Dup2(fd, 10), Is.EqualTo(10));
        Assert.That(vfs.Files.Dup2(10, 10), Is.EqualTo(10));
        Assert.That(vfs.Files.Dup2(55, 10), Is.EqualTo(-9));
        Assert.That(vfs.Files.Dup3(10, 10, 0), Is.EqualTo(-22));
        Assert.That(vfs.Files.Dup3(fd, 11, 0x1), Is.EqualTo(-22), "dup3 flags other than O_CLOEXEC");
        Assert.That(vfs.Files.Dup3(fd, 11, LinuxFile.O_CLOEXEC), Is.EqualTo(11));
        Assert.That(vfs.Files.Fcntl(11, LinuxFile.F_GETFD, 0), Is.EqualTo(1));
        Assert.That(vfs.Files.Fcntl(fd, LinuxFile.F_DUPFD, 20), Is.EqualTo(20));
        Assert.That(vfs.Files.Fcntl(fd, LinuxFile.F_DUPFD_CLOEXEC, 20), Is.EqualTo(21));
        Assert.That(vfs.Files.Fcntl(21, LinuxFile.F_GETFD, 0), Is.EqualTo(1));
        Assert.That(vfs.Files.Fcntl(fd, LinuxFile.F_DUPFD, 5000), Is.EqualTo(-22));
        Assert.That(vfs.Files.Dup2(fd, 1024), Is.EqualTo(-9), "beyond RLIMIT_NOFILE: EBADF");

        vfs.Files.Table.CloseOnExec();
        Assert.That(vfs.Files.Table.Get(fd), Is.Null);
        Assert.That(vfs.Files.Table.Get(11), Is.Null);
        Assert.That(vfs.Files.Table.Get(21), Is.Null);
        Assert.That(vfs.Files.Table.Get(copy), Is.Not.Null);
        Assert.That(vfs.Files.Table.Get(20), Is.Not.Null);
        Assert.That(vfs.Files.Close(fd), Is.EqualTo(-9));
    }

    [Test]
    public void DescriptorsRunOutAtTheLimitWithEmfile()
    {
        var vfs = new Vfs();
        long last = 0;
        for (int i = 3; i < FileTable.Limit; i++) last = vfs.Open("/dev/null", 0);
        Assert.That(last, Is.EqualTo(FileTable.Limit - 1));
        Assert.That(vfs.Open("/dev/null", 0), Is.EqualTo(-24));
        Assert.That(vfs.Files.Pipe2(0, out _, out _), Is.EqualTo(-24));
    }

    [Test]
    public void AppendWritesAtTheEndAndPreadPwriteKeepTheOffset()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/f", "12345");
        int fd = (int)vfs.Open("/tmp/f", LinuxFile.O_RDWR);
        byte[] two = new byte[2];
        fixed (byte* p = two)
        {
            Assert.That(vfs.Files.PRead(fd, p, 2, 3), Is.EqualTo(2));
            Assert.That(two, Is.EqualTo("45"u8.ToArray()));
            Assert.That(vfs.Files.PWrite(fd, p, 2, 10), Is.EqualTo(2));
            Assert.That(vfs.Files.PRead(fd, p, 2, -1), Is.EqualTo(-22));
        }
        Assert.That(vfs.Read(fd, 100), Is.EqualTo("12345\0\0\0\0\045"), "the gap reads as zeros; the offset was 0");
        int appender = (int)vfs.Open("/tmp/f", LinuxFile.O_WRONLY | LinuxFile.O_APPEND);
        Assert.That(vfs.Write(appender, "Z"), Is.EqualTo(1));
        Assert.That(vfs.Files.Seek(appender, 0, LinuxFile.SEEK_CUR), Is.EqualTo(13));
        Assert.That(vfs.Files.Seek(fd, 0, LinuxFile.SEEK_END), Is.EqualTo(13));
        Assert.That(vfs.Files.Seek(fd, 100, LinuxFile.SEEK_SET), Is.EqualTo(100));
        Assert.That(vfs.ReadResult(fd), Is.EqualTo(0), "past the end: 0");
        Assert.That(vfs.Files.Seek(fd, 0, LinuxFile.SEEK_DATA), Is.EqualTo(0));
        Assert.That(vfs.Files.Seek(fd, 0, LinuxFile.SEEK_HOLE), Is.EqualTo(13));
        Assert.That(vfs.Files.Seek(fd, 13, LinuxFile.SEEK_DATA), Is.EqualTo(-6), "ENXIO");
        int reader = (int)vfs.Open("/tmp/f", LinuxFile.O_RDONLY);
        Assert.That(vfs.Write(reader, "x"), Is.EqualTo(-9), "not open for writing: EBADF");
        Assert.That(vfs.Files.Ftruncate(reader, 0), Is.EqualTo(-22));
        Assert.That(vfs.Files.Ftruncate(appender, 0), Is.EqualTo(-1), "O_APPEND: EPERM");
        Assert.That(vfs.Files.Ftruncate(fd, 3), Is.EqualTo(0));
        Assert.That(vfs.ReadFile("/tmp/f"), Is.EqualTo("123"));
    }

    [Test]
    public void DevicesBehaveAsLinuxMemDevices()
    {
        var vfs = new Vfs();
        int nul = (int)vfs.Open("/dev/null", LinuxFile.O_RDWR);
        Assert.That(vfs.ReadResult(nul), Is.EqualTo(0));
        Assert.That(vfs.Write(nul, "gone"), Is.EqualTo(4));
        Assert.That(vfs.Files.Seek(nul, 123, 0), Is.EqualTo(0));
        int zero = (int)vfs.Open("/dev/zero", LinuxFile.O_RDONLY);
        Assert.That(vfs.Read(zero, 8), Is.EqualTo("\0\0\0\0\0\0\0\0"));
        int full = (int)vfs.Open("/dev/full", LinuxFile.O_RDWR);
        Assert.That(vfs.Write(full, "x"), Is.EqualTo(-28), "ENOSPC");
        Assert.That(vfs.Read(full, 2), Is.EqualTo("\0\0"));
        int random = (int)vfs.Open("/dev/urandom", LinuxFile.O_RDONLY);
        string a = vfs.Read(random, 64), b = vfs.Read(random, 64);
        Assert.That(a.Length, Is.EqualTo(64));
        Assert.That(a, Is.Not.EqualTo(b));
        Assert.That(a.Distinct().Count(), Is.GreaterThan(30), "bytes look random");
        StatInfo tty = vfs.Stat("/dev/tty"), console = vfs.Stat("/dev/console"), devNull = vfs.Stat("/dev/null");
        Assert.That(tty.Mode, Is.EqualTo(LinuxFile.S_IFCHR | 0x1B6));
        Assert.That((LinuxFile.Major(tty.RDevice), LinuxFile.Minor(tty.RDevice)), Is.EqualTo((5u, 0u)));
        Assert.That((LinuxFile.Major(console.RDevice), LinuxFile.Minor(console.RDevice)), Is.EqualTo((5u, 1u)));
        Assert.That(devNull.RDevice, Is.EqualTo(0x103UL), "makedev(1, 3) as Linux encodes it");
        int tty1 = (int)vfs.Open("/dev/tty", LinuxFile.O_RDWR);
        Assert.That(vfs.Write(tty1, "T"), Is.EqualTo(1));
        Assert.That(vfs.Terminal.Written, Does.Contain((byte)'T'));
        Assert.That(vfs.Stat("/dev/stdout").RDevice, Is.EqualTo(console.RDevice), "/dev/stdout → /proc/self/fd/1 → the console");
    }

    [Test]
    public void IoctlGenericRequestsAndNonTerminals()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/f", "hello");
        int fd = (int)vfs.Open("/tmp/f", 0);
        Assert.That(vfs.Files.IoctlGeneric(fd, LinuxFile.FIONREAD, out long n), Is.EqualTo(1));
        Assert.That(n, Is.EqualTo(5));
        Assert.That(vfs.Files.IoctlGeneric(fd, LinuxFile.FIOCLEX, out _), Is.EqualTo(1));
        Assert.That(vfs.Files.Fcntl(fd, LinuxFile.F_GETFD, 0), Is.EqualTo(1));
        Assert.That(vfs.Files.IoctlGeneric(fd, 0x5401, out _), Is.EqualTo(0), "TCGETS is not generic: it goes to the device, which a regular file is not (ENOTTY in FileCalls)");
        Assert.That(vfs.Files.IoctlGeneric(77, 0x5401, out _), Is.EqualTo(-9));
    }

    [Test]
    public void SendfileCopiesFromAFileAndAdvancesTheRightOffset()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/src", new string('s', 10000) + "END");
        int input = (int)vfs.Open("/tmp/src", 0);
        int output = (int)vfs.Open("/tmp/dst", 0x241);
        Assert.That(vfs.Files.SendFile(output, input, null, 20000), Is.EqualTo(10003));
        Assert.That(vfs.Files.Seek(input, 0, LinuxFile.SEEK_CUR), Is.EqualTo(10003));
        long offset = 9998;
        Assert.That(vfs.Files.SendFile(output, input, &offset, 100), Is.EqualTo(5));
        Assert.That(offset, Is.EqualTo(10003));
        Assert.That(vfs.Files.Seek(input, 0, LinuxFile.SEEK_CUR), Is.EqualTo(10003), "with an offset the file position stays");
        Assert.That(vfs.ReadFile("/tmp/dst"), Is.EqualTo(new string('s', 10000) + "ENDssEND"));
        Assert.That(vfs.Files.SendFile(input, output, null, 1), Is.EqualTo(-9), "output not writable");
    }
}

internal static unsafe class LinuxFilesTestExtensions
{
    public static long Ioctl_FionRead(this LinuxFiles files, int fd)
    {
        long result = files.IoctlGeneric(fd, LinuxFile.FIONREAD, out long n);
        return result < 0 ? result : n;
    }
}
