#nullable enable
// eventfd and epoll (EventFd.cs, Epoll.cs, LinuxFiles.EventFd/EpollCreate/EpollControl/EpollCollect,
// OpenFile.Poll): the counter's semantics, the interest list, level- and edge-triggered and
// oneshot reporting, epoll_ctl's errors. Where the host kernel can answer the same question
// (flags, fstat, the order of epoll_ctl's errors, what a look reports), the expected values
// are the host's own answers. The waiting (timeouts, sleeping, waking) is FileCalls.Waiting.cs's,
// checked in the guest by Tests/Linux/epoll.c against Linux.
using System.Runtime.InteropServices;
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class LinuxVfsEpollTests
{
    [DllImport("libc", SetLastError = true)] private static extern int eventfd(uint initial, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int epoll_create1(int flags);
    [DllImport("libc", SetLastError = true)] private static extern int epoll_ctl(int epfd, int op, int fd, byte* events);
    [DllImport("libc", SetLastError = true)] private static extern int epoll_wait(int epfd, byte* events, int max, int timeout);
    [DllImport("libc", SetLastError = true)] private static extern int pipe2(int* fds, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int fcntl(int fd, int command, long argument);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int dup(int fd);
    [DllImport("libc", SetLastError = true)] private static extern nint read(int fd, byte* buffer, nint count);
    [DllImport("libc", SetLastError = true)] private static extern nint write(int fd, byte* buffer, nint count);
    [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags, int mode);

    private const int EFD_SEMAPHORE = 1, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    private const int ADD = 1, DEL = 2, MOD = 3;
    private const uint IN = 1, OUT = 4, ERR = 8, HUP = 0x10, ET = 1u << 31, ONESHOT = 1u << 30, EXCLUSIVE = 1u << 28;

    private static long HostResult(long value) => value < 0 ? -Marshal.GetLastPInvokeError() : value;

    private static long CounterWrite(Vfs vfs, int fd, ulong value) => vfs.Files.Write(fd, (byte*)&value, 8);

    private static (long Result, ulong Value) CounterRead(Vfs vfs, int fd, int length = 8)
    {
        ulong value = 0;
        byte* buffer = stackalloc byte[16];
        long result = vfs.Files.Read(fd, buffer, length);
        if (result == 8) value = *(ulong*)buffer;
        return (result, value);
    }

    private static long Control(Vfs vfs, int epfd, int op, int fd, uint events = IN, ulong data = 0) =>
        vfs.Files.EpollControl(epfd, op, fd, events, data);

    /// <summary>One look: the (events, data) pairs reported.</summary>
    private static List<(uint Events, ulong Data)> Look(Vfs vfs, int epfd, int max = 16)
    {
        byte[] buffer = new byte[max * EpollNode.EventSize];
        long count;
        fixed (byte* p = buffer) count = vfs.Files.EpollCollect(epfd, p, max);
        Assert.That(count, Is.GreaterThanOrEqualTo(0), "epoll look failed");
        var events = new List<(uint, ulong)>();
        for (int i = 0; i < count; i++)
            events.Add((BitConverter.ToUInt32(buffer, i * 12), BitConverter.ToUInt64(buffer, i * 12 + 4)));
        return events;
    }

    private static List<(uint Events, ulong Data)> HostLook(int epfd, int max = 16)
    {
        byte* buffer = stackalloc byte[max * 12];
        int count = epoll_wait(epfd, buffer, max, 0);
        Assert.That(count, Is.GreaterThanOrEqualTo(0), "host epoll_wait failed");
        var events = new List<(uint, ulong)>();
        for (int i = 0; i < count; i++) events.Add((*(uint*)(buffer + i * 12), *(ulong*)(buffer + i * 12 + 4)));
        return events;
    }

    private static int HostControl(int epfd, int op, int fd, uint events = IN, ulong data = 0)
    {
        byte* e = stackalloc byte[12];
        *(uint*)e = events;
        *(ulong*)(e + 4) = data;
        return (int)HostResult(epoll_ctl(epfd, op, fd, e));
    }

    // ------------------------------------------------------------------ eventfd

    [Test]
    public void EventFdReadTakesTheWholeCounterAndWritesAdd()
    {
        var vfs = new Vfs();
        int fd = (int)vfs.Files.EventFd(5, 0);
        Assert.That(CounterWrite(vfs, fd, 3), Is.EqualTo(8));
        Assert.That(CounterRead(vfs, fd), Is.EqualTo((8L, 8UL)));
        Assert.That(CounterRead(vfs, fd).Result, Is.EqualTo(EventFdNode.WouldWait), "a blocking read of 0 must wait");
    }

    [Test]
    public void EventFdSemaphoreReadTakesOne()
    {
        var vfs = new Vfs();
        int fd = (int)vfs.Files.EventFd(2, EFD_SEMAPHORE | O_NONBLOCK);
        Assert.That(CounterRead(vfs, fd), Is.EqualTo((8L, 1UL)));
        Assert.That(CounterRead(vfs, fd), Is.EqualTo((8L, 1UL)));
        Assert.That(CounterRead(vfs, fd).Result, Is.EqualTo(-11), "EAGAIN");
    }

    [Test]
    public void EventFdShortBuffersAndTheAllOnesValueAreEinval()
    {
        var vfs = new Vfs();
        int fd = (int)vfs.Files.EventFd(1, O_NONBLOCK);
        Assert.That(CounterRead(vfs, fd, 7).Result, Is.EqualTo(-22));
        ulong value = 1;
        Assert.That(vfs.Files.Write(fd, (byte*)&value, 7), Is.EqualTo(-22));
        Assert.That(CounterWrite(vfs, fd, ulong.MaxValue), Is.EqualTo(-22));
        Assert.That(CounterRead(vfs, fd, 16), Is.EqualTo((8L, 1UL)), "a longer read returns 8 bytes");
    }

    [Test]
    public void EventFdWritePastTheMaximumWaitsOrIsEagainAndPollOutTellsIt()
    {
        var vfs = new Vfs();
        int fd = (int)vfs.Files.EventFd(0, O_NONBLOCK);
        Assert.That(vfs.Files.Poll(fd, (short)(IN | OUT)), Is.EqualTo((short)OUT));
        Assert.That(CounterWrite(vfs, fd, EventFdNode.Maximum - 1), Is.EqualTo(8));
        Assert.That(vfs.Files.Poll(fd, (short)(IN | OUT)), Is.EqualTo((short)(IN | OUT)));
        Assert.That(CounterWrite(vfs, fd, 2), Is.EqualTo(-11), "EAGAIN");
        Assert.That(CounterWrite(vfs, fd, 1), Is.EqualTo(8), "up to the maximum");
        Assert.That(vfs.Files.Poll(fd, (short)(IN | OUT)), Is.EqualTo((short)IN), "a write of 1 would wait: no POLLOUT");
        Assert.That(CounterWrite(vfs, fd, 0), Is.EqualTo(8), "0 always fits");
        Assert.That(vfs.Files.Fcntl(fd, LinuxFile.F_SETFL, 0), Is.EqualTo(0));
        Assert.That(CounterWrite(vfs, fd, 1), Is.EqualTo(EventFdNode.WouldWait));
    }

    [Test]
    public void EventFdFlagsStatAndLinkMatchTheHost()
    {
        int host = eventfd(0, O_NONBLOCK | O_CLOEXEC);
        Assert.That(host, Is.GreaterThanOrEqualTo(0));
        long hostFlags = fcntl(host, LinuxFile.F_GETFL, 0), hostFd = fcntl(host, LinuxFile.F_GETFD, 0);
        string hostLink = new FileInfo("/proc/self/fd/" + host).LinkTarget ?? "";
        int hostBadFlags = (int)HostResult(eventfd(0, 4));
        close(host);

        var vfs = new Vfs();
        int fd = (int)vfs.Files.EventFd(0, O_NONBLOCK | O_CLOEXEC);
        Assert.That(vfs.Files.Fcntl(fd, LinuxFile.F_GETFL, 0), Is.EqualTo(hostFlags));
        Assert.That(vfs.Files.Fcntl(fd, LinuxFile.F_GETFD, 0), Is.EqualTo(hostFd));
        Assert.That(vfs.Files.EventFd(0, 4), Is.EqualTo(hostBadFlags), "an unknown flag");
        Assert.That(vfs.Files.ReadLinkAt(Vfs.AT_FDCWD, "/proc/self/fd/" + fd, out string link), Is.EqualTo(0));
        Assert.That(link, Is.EqualTo(hostLink));
        Assert.That(vfs.Files.Fstat(fd, out StatInfo info), Is.EqualTo(0));
        Assert.That(info.Mode, Is.EqualTo(0x180u), "anon_inode: 0600, no file type");
        int epfd = (int)vfs.Files.EpollCreate(0);
        Assert.That(vfs.Files.Fstat(epfd, out StatInfo epollInfo), Is.EqualTo(0));
        Assert.That(epollInfo.Inode, Is.EqualTo(info.Inode), "one anon inode");
        Assert.That(vfs.Files.Seek(fd, 5, 0), Is.EqualTo(0), "noop_llseek");
        byte* buffer = stackalloc byte[8];
        Assert.That(vfs.Files.PRead(fd, buffer, 8, 0), Is.EqualTo(-29), "pread: ESPIPE");
        long copy = vfs.Files.Dup(fd);
        Assert.That(CounterWrite(vfs, (int)copy, 4), Is.EqualTo(8));
        Assert.That(CounterRead(vfs, fd), Is.EqualTo((8L, 4UL)), "dup shares the counter");
    }

    // ------------------------------------------------------------------ epoll

    [Test]
    public void EpollLevelTriggeredReportsWhileReady()
    {
        var vfs = new Vfs();
        int epfd = (int)vfs.Files.EpollCreate(0);
        Assert.That(vfs.Files.Pipe2(0, out int r, out int w), Is.EqualTo(0));
        Assert.That(Control(vfs, epfd, ADD, r, IN, 0x1122334455667788), Is.EqualTo(0));
        Assert.That(Look(vfs, epfd), Is.Empty);
        vfs.Write(w, "ab");
        Assert.That(Look(vfs, epfd), Is.EqualTo(new[] { (IN, 0x1122334455667788UL) }), "data verbatim");
        Assert.That(Look(vfs, epfd), Has.Count.EqualTo(1), "still ready: reported again");
        vfs.Read(r);
        Assert.That(Look(vfs, epfd), Is.Empty);
    }

    [Test]
    public void EpollEdgeTriggeredReportsOnceUntilNotReadyAndReadyAgain()
    {
        var vfs = new Vfs();
        int epfd = (int)vfs.Files.EpollCreate(0);
        Assert.That(vfs.Files.Pipe2(0, out int r, out int w), Is.EqualTo(0));
        Assert.That(Control(vfs, epfd, ADD, r, IN | ET, 7), Is.EqualTo(0));
        vfs.Write(w, "a");
        Assert.That(Look(vfs, epfd), Is.EqualTo(new[] { (IN, 7UL) }));
        Assert.That(Look(vfs, epfd), Is.Empty, "reported once");
        vfs.Read(r);
        Assert.That(Look(vfs, epfd), Is.Empty);
        vfs.Write(w, "b");
        Assert.That(Look(vfs, epfd), Is.EqualTo(new[] { (IN, 7UL) }), "ready again after not ready");
        Assert.That(Control(vfs, epfd, MOD, r, IN | ET, 8), Is.EqualTo(0));
        Assert.That(Look(vfs, epfd), Is.EqualTo(new[] { (IN, 8UL) }), "MOD re-arms");
    }

    [Test]
    public void EpollEdgeTriggeredReportsAgainAfterAWakeUpWithoutALookBetween()
    {
        var vfs = new Vfs();
        int epfd = (int)vfs.Files.EpollCreate(0);
        Assert.That(vfs.Files.Pipe2(LinuxFile.O_NONBLOCK, out int r, out int w), Is.EqualTo(0));
        Assert.That(Control(vfs, epfd, ADD, r, IN | ET, 1), Is.EqualTo(0));
        Assert.That(Control(vfs, epfd, ADD, w, OUT | ET, 2), Is.EqualTo(0));
        vfs.Write(w, "a");
        Assert.That(Look(vfs, epfd), Is.EquivalentTo(new[] { (IN, 1UL), (OUT, 2UL) }));
        vfs.Read(r);
        vfs.Write(w, "b");
        Assert.That(Look(vfs, epfd), Is.EqualTo(new[] { (IN, 1UL) }), "drained and written again between two looks: reported");
        vfs.Write(w, "c");
        Assert.That(Look(vfs, epfd), Is.EqualTo(new[] { (IN, 1UL) }), "more bytes while still readable: a wake-up, reported");
        vfs.Read(r);
        Assert.That(Look(vfs, epfd), Is.Empty, "a read of a pipe that was not full wakes no writer");
        byte[] block = new byte[Pipe.Capacity];
        Assert.That(vfs.Write(w, block), Is.EqualTo(Pipe.Capacity));
        Assert.That(vfs.Read(r, 1).Length, Is.EqualTo(1));
        Assert.That(Look(vfs, epfd), Is.EquivalentTo(new[] { (IN, 1UL), (OUT, 2UL) }),
            "a read of a full pipe wakes the writers though no look saw it full (and the write woke the readers)");
    }

    [Test]
    public void EpollOneShotIsDisabledAfterOneReportUntilModRearmsIt()
    {
        var vfs = new Vfs();
        int epfd = (int)vfs.Files.EpollCreate(0);
        int counter = (int)vfs.Files.EventFd(1, O_NONBLOCK);
        Assert.That(Control(vfs, epfd, ADD, counter, IN | ONESHOT, 3), Is.EqualTo(0));
        Assert.That(Look(vfs, epfd), Is.EqualTo(new[] { (IN, 3UL) }));
        Assert.That(Look(vfs, epfd), Is.Empty, "disabled");
        Assert.That(Control(vfs, epfd, ADD, counter, IN, 0), Is.EqualTo(-17), "still registered: EEXIST");
        Assert.That(Control(vfs, epfd, MOD, counter, IN | ONESHOT, 4), Is.EqualTo(0));
        Assert.That(Look(vfs, epfd), Is.EqualTo(new[] { (IN, 4UL) }));
    }

    [Test]
    public void EpollReportsHangupAndErrorWithoutBeingAsked()
    {
        var vfs = new Vfs();
        int epfd = (int)vfs.Files.EpollCreate(0);
        Assert.That(vfs.Files.Pipe2(0, out int r, out int w), Is.EqualTo(0));
        Assert.That(vfs.Files.Pipe2(0, out int r2, out int w2), Is.EqualTo(0));
        Assert.That(Control(vfs, epfd, ADD, r, 0, 1), Is.EqualTo(0));
        Assert.That(Control(vfs, epfd, ADD, w2, 0, 2), Is.EqualTo(0));
        vfs.Files.Close(w);
        vfs.Files.Close(r2);
        var events = Look(vfs, epfd);
        Assert.That(events, Is.EquivalentTo(new[] { (HUP, 1UL), (ERR, 2UL) }));
    }

    [Test]
    public void EpollInterestFollowsTheOpenFileDescription()
    {
        var vfs = new Vfs();
        int epfd = (int)vfs.Files.EpollCreate(0);
        int counter = (int)vfs.Files.EventFd(1, O_NONBLOCK);
        int copy = (int)vfs.Files.Dup(counter);
        Assert.That(Control(vfs, epfd, ADD, counter, IN, 10), Is.EqualTo(0));
        Assert.That(Control(vfs, epfd, DEL, copy), Is.EqualTo(-2), "another fd of the description is another key: ENOENT");
        Assert.That(Control(vfs, epfd, ADD, copy, IN, 11), Is.EqualTo(0));
        vfs.Files.Close(counter);
        Assert.That(Look(vfs, epfd), Is.EquivalentTo(new[] { (IN, 10UL), (IN, 11UL) }), "the description lives on: both report");
        Assert.That(Control(vfs, epfd, DEL, counter), Is.EqualTo(-9), "a closed fd: EBADF");
        vfs.Files.Close(copy);
        Assert.That(Look(vfs, epfd), Is.Empty, "the last reference closed: the interests are gone");
        int again = (int)vfs.Files.EventFd(1, O_NONBLOCK);
        Assert.That(again, Is.EqualTo(counter), "the lowest fd again");
        Assert.That(Control(vfs, epfd, ADD, again, IN, 12), Is.EqualTo(0), "a new description under the old number: no EEXIST");
        Assert.That(Look(vfs, epfd), Is.EqualTo(new[] { (IN, 12UL) }));
    }

    [Test]
    public void EpollMaxEventsServesEveryInterestInTurn()
    {
        var vfs = new Vfs();
        int epfd = (int)vfs.Files.EpollCreate(0);
        for (ulong i = 0; i < 3; i++)
            Assert.That(Control(vfs, epfd, ADD, (int)vfs.Files.EventFd(1, 0), IN, i), Is.EqualTo(0));
        Assert.That(Look(vfs, epfd, 2), Is.EqualTo(new[] { (IN, 0UL), (IN, 1UL) }));
        Assert.That(Look(vfs, epfd, 2), Is.EqualTo(new[] { (IN, 2UL), (IN, 0UL) }), "the one left out comes first");
    }

    [Test]
    public void EpollDescriptorIsReadableWhenAnInterestWouldReport()
    {
        var vfs = new Vfs();
        int outer = (int)vfs.Files.EpollCreate(0), inner = (int)vfs.Files.EpollCreate(0);
        int counter = (int)vfs.Files.EventFd(0, O_NONBLOCK);
        Assert.That(Control(vfs, inner, ADD, counter, IN | ET, 1), Is.EqualTo(0));
        Assert.That(Control(vfs, outer, ADD, inner, IN, 2), Is.EqualTo(0));
        Assert.That(vfs.Files.Poll(inner, (short)IN), Is.EqualTo(0));
        Assert.That(Look(vfs, outer), Is.Empty);
        CounterWrite(vfs, counter, 1);
        Assert.That(vfs.Files.Poll(inner, (short)(IN | 0x40)), Is.EqualTo((short)(IN | 0x40)), "POLLIN|POLLRDNORM");
        Assert.That(Look(vfs, outer), Is.EqualTo(new[] { (IN, 2UL) }), "nested: the inner epoll is ready");
        Assert.That(Look(vfs, inner), Is.EqualTo(new[] { (IN, 1UL) }));
        Assert.That(vfs.Files.Poll(inner, (short)IN), Is.EqualTo(0), "the edge was consumed");
    }

    [Test]
    public void EpollCtlErrorsMatchTheHostInLinuxOrder()
    {
        // The same sequence of epoll_ctl calls on the host and on the VFS; every answer must match.
        var steps = new List<string>();
        var hostAnswers = new List<long>();
        int* p = stackalloc int[2];
        Assert.That(pipe2(p, 0), Is.EqualTo(0));
        int hostEp = epoll_create1(0), hostOther = epoll_create1(0), hostFile = open("/proc/self/exe", 0, 0);
        int hostEpDup = dup(hostEp);
        long[] Run(Func<int, int, int, uint, long> control, int ep, int other, int reader, int writer, int file, int epDup) => new long[]
        {
            control(ep, ADD, reader, IN),            // ok
            control(ep, ADD, reader, IN),            // EEXIST
            control(ep, MOD, writer, OUT),           // ENOENT
            control(ep, DEL, writer, 0),             // ENOENT
            control(ep, ADD, 999, IN),               // EBADF (fd)
            control(999, ADD, reader, IN),           // EBADF (epfd)
            control(ep, ADD, file, IN),              // EPERM (a regular file)
            control(reader, ADD, writer, IN),        // EINVAL (not an epoll)
            control(reader, ADD, file, IN),          // EPERM comes before EINVAL
            control(ep, ADD, ep, IN),                // EINVAL (itself)
            control(ep, ADD, epDup, IN),             // EINVAL (itself under another fd)
            control(ep, 99, writer, IN),             // EINVAL (op)
            control(ep, MOD, reader, IN | EXCLUSIVE),// EINVAL (exclusive with MOD)
            control(ep, ADD, other, IN | EXCLUSIVE), // EINVAL (exclusive on an epoll)
            control(ep, ADD, other, IN),             // ok (nested)
            control(other, ADD, ep, IN),             // ELOOP
            control(ep, DEL, reader, 0),             // ok
            control(ep, MOD, reader, IN),            // ENOENT after DEL
        };
        long[] host = Run((ep, op, fd, events) => HostControl(ep, op, fd, events), hostEp, hostOther, p[0], p[1], hostFile, hostEpDup);
        foreach (int fd in new[] { p[0], p[1], hostEp, hostOther, hostFile, hostEpDup }) close(fd);

        var vfs = new Vfs();
        vfs.CreateFile("/tmp/regular", "x");
        Assert.That(vfs.Files.Pipe2(0, out int r, out int w), Is.EqualTo(0));
        int vEp = (int)vfs.Files.EpollCreate(0), vOther = (int)vfs.Files.EpollCreate(0);
        int vFile = (int)vfs.Open("/tmp/regular", 0), vEpDup = (int)vfs.Files.Dup(vEp);
        long[] ours = Run((ep, op, fd, events) => Control(vfs, ep, op, fd, events), vEp, vOther, r, w, vFile, vEpDup);
        Assert.That(ours, Is.EqualTo(host));
        Assert.That(vfs.Files.EpollCreate(1), Is.EqualTo(-22), "epoll_create1 with an unknown flag");
    }

    [Test]
    public void EpollLooksMatchTheHostForPipesAndEventFds()
    {
        // Level, edge and oneshot interests through a few changes: each look's events (sorted by
        // data) on the host and on the VFS.
        var vfs = new Vfs();
        int* p = stackalloc int[2];
        Assert.That(pipe2(p, O_NONBLOCK), Is.EqualTo(0));
        int hostEp = epoll_create1(0), hostCounter = eventfd(0, O_NONBLOCK);
        Assert.That(vfs.Files.Pipe2(O_NONBLOCK, out int r, out int w), Is.EqualTo(0));
        int ep = (int)vfs.Files.EpollCreate(0), counter = (int)vfs.Files.EventFd(0, O_NONBLOCK);

        var hostLooks = new List<string>();
        var ourLooks = new List<string>();
        string Text(List<(uint Events, ulong Data)> events) =>
            string.Join(",", events.OrderBy(e => e.Data).Select(e => e.Data + ":" + e.Events.ToString("x")));
        void Both(Action host, Action ours)
        {
            host();
            ours();
            hostLooks.Add(Text(HostLook(hostEp)));
            ourLooks.Add(Text(Look(vfs, ep)));
        }
        ulong* one = (ulong*)Marshal.AllocHGlobal(8);
        *one = 1;
        byte* b = (byte*)Marshal.AllocHGlobal(64);
        Both(() => { HostControl(hostEp, ADD, p[0], IN, 1); HostControl(hostEp, ADD, p[1], OUT | ET, 2); HostControl(hostEp, ADD, hostCounter, IN | ONESHOT, 3); },
             () => { Control(vfs, ep, ADD, r, IN, 1); Control(vfs, ep, ADD, w, OUT | ET, 2); Control(vfs, ep, ADD, counter, IN | ONESHOT, 3); });
        Both(() => write(p[1], (byte*)one, 1), () => vfs.Files.Write(w, (byte*)one, 1));
        Both(() => write(hostCounter, (byte*)one, 8), () => CounterWrite(vfs, counter, 1));
        Both(() => read(p[0], b, 64), () => vfs.Files.Read(r, b, 64));
        Both(() => HostControl(hostEp, MOD, hostCounter, IN, 4), () => Control(vfs, ep, MOD, counter, IN, 4));
        Both(() => read(hostCounter, b, 8), () => vfs.Files.Read(counter, b, 8));
        Both(() => HostControl(hostEp, MOD, p[0], IN | ET, 5), () => Control(vfs, ep, MOD, r, IN | ET, 5));
        Both(() => { write(p[1], (byte*)one, 1); read(p[0], b, 64); write(p[1], (byte*)one, 1); },
             () => { vfs.Files.Write(w, (byte*)one, 1); vfs.Files.Read(r, b, 64); vfs.Files.Write(w, (byte*)one, 1); });
        Both(() => write(p[1], (byte*)one, 1), () => vfs.Files.Write(w, (byte*)one, 1));
        Both(() => { }, () => { });
        Both(() => close(p[1]), () => vfs.Files.Close(w));
        foreach (int fd in new[] { p[0], hostEp, hostCounter }) close(fd);
        Marshal.FreeHGlobal((nint)one);
        Marshal.FreeHGlobal((nint)b);
        Assert.That(ourLooks, Is.EqualTo(hostLooks));
    }
}
