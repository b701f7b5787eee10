#nullable enable
// /proc (ProcFs.cs): the formats busybox ps, free and cat read, compared with the host's own /proc
// where the layout is the point (field counts, column widths), and the magic links of /proc/self.
using System.Text.RegularExpressions;
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class LinuxVfsProcTests
{
    [Test]
    public void StatHasLinuxsFiftyTwoFieldsInOrder()
    {
        var status = new ProcessStatus
        {
            Pid = 42, ParentPid = 1, ProcessGroup = 40, Session = 30, TtyNumber = 0x501, TerminalProcessGroup = 40, State = 'S',
            Name = "a name longer than fifteen", UserTicks = 11, SystemTicks = 12, StartTicks = 345, VirtualBytes = 4096000, ResidentPages = 77,
        };
        string line = ProcFs.FormatStat(status);
        Assert.That(line, Does.EndWith("\n"));
        Match m = Regex.Match(line, @"^(\d+) \((.*)\) (.) (.*)\n$");
        Assert.That(m.Success, line);
        Assert.That(m.Groups[2].Value, Is.EqualTo("a name longer t"), "comm is at most 15 bytes (TASK_COMM_LEN - 1)");
        string[] rest = m.Groups[4].Value.Split(' ');
        Assert.That(rest.Length + 3, Is.EqualTo(52), "52 fields, like Linux 6.x");
        // Fields by proc(5) number (1-based): 4 ppid, 5 pgrp, 6 session, 7 tty_nr, 8 tpgid, 14 utime, 15 stime, 22 starttime, 23 vsize, 24 rss.
        string Field(int n) => n switch { 1 => m.Groups[1].Value, 2 => m.Groups[2].Value, 3 => m.Groups[3].Value, _ => rest[n - 4] };
        Assert.That(Field(1), Is.EqualTo("42"));
        Assert.That(Field(3), Is.EqualTo("S"));
        Assert.That(Field(4), Is.EqualTo("1"));
        Assert.That(Field(5), Is.EqualTo("40"));
        Assert.That(Field(6), Is.EqualTo("30"));
        Assert.That(Field(7), Is.EqualTo("1281"));
        Assert.That(Field(8), Is.EqualTo("40"));
        Assert.That(Field(14), Is.EqualTo("11"));
        Assert.That(Field(15), Is.EqualTo("12"));
        Assert.That(Field(22), Is.EqualTo("345"));
        Assert.That(Field(23), Is.EqualTo("4096000"));
        Assert.That(Field(24), Is.EqualTo("77"));
        Assert.That(Field(38), Is.EqualTo("17"), "exit_signal SIGCHLD");
    }

    [Test]
    public void StatHasAsManyFieldsAsTheHostKernelPrints()
    {
        string host = File.ReadAllText("/proc/self/stat");
        int hostFields = host[(host.LastIndexOf(')') + 2)..].TrimEnd('\n').Split(' ').Length + 2;
        string ours = ProcFs.FormatStat(new ProcessStatus { Pid = 1, Name = "x" });
        int ourFields = ours[(ours.LastIndexOf(')') + 2)..].TrimEnd('\n').Split(' ').Length + 2;
        Assert.That(ourFields, Is.EqualTo(hostFields));
    }

    [Test]
    public void MeminfoLinesHaveTheHostsColumnLayout()
    {
        string ours = ProcFs.FormatMeminfo(new FakeSystem { MemoryTotalBytes = 512L << 20, MemoryFreeBytes = 300L << 20 });
        string[] lines = ours.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("MemTotal:         524288 kB"));
        Assert.That(lines[1], Is.EqualTo("MemFree:          307200 kB"));
        Assert.That(lines[2], Is.EqualTo("MemAvailable:     307200 kB"));
        string hostFirst = File.ReadAllLines("/proc/meminfo")[0];
        int hostDigits = hostFirst.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1].Length;
        Assert.That(hostFirst.IndexOf(" kB"), Is.EqualTo(16 + Math.Max(8, hostDigits)), "the host: name padded to 16, number to 8");
        Assert.That(lines[0].IndexOf(" kB"), Is.EqualTo(24));
        foreach (string field in new[] { "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapTotal", "SwapFree" })
            Assert.That(ours, Does.Contain(field + ":"), "busybox free reads " + field);
        string wide = ProcFs.FormatMeminfo(new FakeSystem { MemoryTotalBytes = 200L << 30, MemoryFreeBytes = 0 });
        Assert.That(wide, Does.StartWith("MemTotal:       209715200 kB\n" + "MemFree:".PadRight(16) + "0".PadLeft(8) + " kB\n"), "a number wider than 8 columns pushes kB right, as Linux's");
        Assert.That(wide, Does.EndWith("Shmem:".PadRight(16) + "0".PadLeft(8) + " kB\n"));
    }

    [Test]
    public void UptimeMountsAndCpuinfoFormats()
    {
        Assert.That(ProcFs.FormatUptime(new FakeSystem { UptimeNanoseconds = 12_345_678_901, IdleNanoseconds = 10_020_000_000 }), Is.EqualTo("12.34 10.02\n"));
        Assert.That(ProcFs.FormatUptime(new FakeSystem { UptimeNanoseconds = 5_000_000 }), Is.EqualTo("0.00 0.00\n"));
        var vfs = new Vfs();
        Assert.That(vfs.ReadFile("/proc/mounts"), Is.EqualTo(
            "rootfs / rootfs rw 0 0\ndevtmpfs /dev devtmpfs rw,nosuid,mode=755 0 0\nproc /proc proc rw,nosuid,nodev,noexec 0 0\nsysfs /sys sysfs rw,nosuid,nodev,noexec 0 0\ntmpfs /tmp tmpfs rw,nosuid,nodev 0 0\n"));
        string cpu = vfs.ReadFile("/proc/cpuinfo");
        Assert.That(cpu, Does.StartWith("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: QEMU Virtual CPU version 2.5+\ncpu MHz\t\t: 2400.000\n"));
    }

    [Test]
    public void MapsLinesMatchTheHostsLayout()
    {
        var mappings = new List<MemoryMapping>
        {
            new() { Start = 0x400000, End = 0x401000, Readable = true, Executable = true, Offset = 0x1000, DeviceMajor = 0xfe, Inode = 247270, Path = "/usr/bin/cat" },
            new() { Start = 0x7fa6c8b1d000, End = 0x7fa6c8be1000, Readable = true, Writable = true },
            new() { Start = 0x55a6a74e5000, End = 0x55a6a7506000, Readable = true, Writable = true, Path = "[heap]" },
        };
        string[] lines = ProcFs.FormatMaps(mappings).Split('\n');
        Assert.That(lines[0], Is.EqualTo("00400000-00401000 r-xp 00001000 fe:00 247270".PadRight(73) + "/usr/bin/cat"), "the name column is fixed (seq_setwidth), whatever the address width");
        Assert.That(lines[1], Is.EqualTo("7fa6c8b1d000-7fa6c8be1000 rw-p 00000000 00:00 0 "));
        Assert.That(lines[2], Is.EqualTo("55a6a74e5000-55a6a7506000 rw-p 00000000 00:00 0                          [heap]"));
        // The host's own maps: every named line puts its name at column 73 when the address is 12 digits.
        foreach (string line in File.ReadAllLines("/proc/self/maps"))
            if (line.StartsWith("55") && line.Length > 73 && line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6)
                Assert.That(line[73], Is.Not.EqualTo(' '), line);
        Assert.That(lines[2].IndexOf('['), Is.EqualTo(73));
    }

    [Test]
    public void MapsHexNumbersMatchToStringAtEveryWidth()
    {
        // The hex writer makes two digits a step (a byte through a table), and an odd width one more: every width from
        // 1 to 16 digits, every digit value, at both halves of a 64-bit number.
        var random = new Random(10);
        var values = new List<ulong> { 0, 0x9, 0xA, 0xF, 0x10, 0xFFFFFFFF, 0x100000000, 0xFEDCBA9876543210, ulong.MaxValue };
        for (int i = 0; i < 200; i++) values.Add((ulong)random.NextInt64() >> random.Next(64));
        foreach (ulong value in values)
        {
            var mappings = new List<MemoryMapping> { new() { Start = value, End = value, Offset = value } };
            string line = ProcFs.FormatMaps(mappings).TrimEnd('\n');
            string hex = value.ToString("x").PadLeft(8, '0');
            Assert.That(line, Is.EqualTo(hex + "-" + hex + " ---p " + hex + " 00:00 0 "), value.ToString("x"));
        }
    }

    [Test]
    public void MapsWithoutASourceIsEmptyAndWithOneListsIt()
    {
        var vfs = new Vfs();
        Assert.That(vfs.ReadFile("/proc/self/maps"), Is.EqualTo(""));
        vfs.Maps.Mappings.Add(new MemoryMapping { Start = 0x1000, End = 0x2000, Readable = true, Path = "[stack]" });
        Assert.That(vfs.ReadFile("/proc/self/maps"), Does.EndWith("[stack]\n"));
    }

    [Test]
    public void DiskstatsDropCachesAndIdleTicksSpeakForTheDisk()
    {
        var vfs = new Vfs();
        Assert.That(vfs.ReadFile("/proc/diskstats"), Is.Empty, "no disk: no line");
        var disk = new FakeDisk();
        vfs.Fs.Sources.Disk = disk;
        Assert.That(vfs.ReadFile("/proc/diskstats"), Is.EqualTo(" 254       0 vda 69 0 8832 0 148 0 9168 0 0 0 0 0 0 0 0 0 0\n"));
        vfs.System.IdleTimestampTicks = 123456789012;
        Assert.That(vfs.ReadFile("/proc/aegis/idle_tsc"), Is.EqualTo("123456789012\n"));
        vfs.System.AddressSpaceLoads = 4242;
        Assert.That(vfs.ReadFile("/proc/aegis/address_space_loads"), Is.EqualTo("4242\n"));

        Assert.That(vfs.Open("/proc/sys/vm/drop_caches", 0), Is.EqualTo(-13), "write-only: a read open is EACCES");
        long fd = vfs.Open("/proc/sys/vm/drop_caches", 1);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(vfs.Write((int)fd, "3\n"), Is.EqualTo(2));
        Assert.That(disk.Drops, Is.EqualTo(1));
        Assert.That(vfs.Write((int)fd, "4"), Is.EqualTo(-22), "Linux takes 1, 2 or 3");
        Assert.That(vfs.Write((int)fd, "12"), Is.EqualTo(-22));
        Assert.That(disk.Drops, Is.EqualTo(1));
        Assert.That(vfs.Files.StatAt(-100, "/proc/sys/vm/drop_caches", 0, out StatInfo info), Is.EqualTo(0));
        Assert.That(info.Mode & 0xFFF, Is.EqualTo(0x80u), "mode 0200, as Linux");
    }

    private sealed class FakeDisk : IDiskSource
    {
        public int Drops;
        public bool Statistics(out DiskStatistics statistics)
        {
            statistics = new DiskStatistics { Reads = 69, SectorsRead = 8832, Writes = 148, SectorsWritten = 9168, Name = "vda" };
            return true;
        }
        public long DropCaches() { Drops++; return 0; }
    }

    [Test]
    public void ProcDirectoryListsFixedFilesSelfAndPids()
    {
        var vfs = new Vfs();
        vfs.Processes.All[3] = new ProcessStatus { Pid = 3, Name = "init" };
        var names = vfs.List("/proc").Select(e => e.Name).ToList();
        Assert.That(names, Is.EqualTo(new[] { ".", "..", "aegis", "cpuinfo", "diskstats", "loadavg", "meminfo", "mounts", "self", "stat", "sys", "uptime", "3", "7" }));
        Assert.That(vfs.Files.ReadLinkAt(-100, "/proc/self", out string self), Is.EqualTo(0));
        Assert.That(self, Is.EqualTo("7"));
        Assert.That(vfs.List("/proc/self").Select(e => e.Name), Is.EqualTo(new[] { ".", "..", "cmdline", "comm", "cwd", "exe", "fd", "maps", "stat", "status" }));
        Assert.That(vfs.List("/proc/3").Select(e => e.Name), Is.EqualTo(new[] { ".", "..", "cmdline", "comm", "stat", "status" }), "another process: no fd, maps or cwd here");
        Assert.That(vfs.ReadFile("/proc/3/comm"), Is.EqualTo("init\n"), "comm: the name and a newline");
        Assert.That(vfs.ReadFile("/proc/3/stat"), Does.StartWith("3 (init) R "));
        Assert.That(vfs.ReadFile("/proc/7/cmdline"), Is.EqualTo("/bin/test\0-x\0arg two\0"));
        Assert.That(vfs.Files.ReadLinkAt(-100, "/proc/self/exe", out string exe), Is.EqualTo(0));
        Assert.That(exe, Is.EqualTo("/bin/test"));
        vfs.Processes.All[3].Name = "a-name-longer-than-fifteen";
        Assert.That(vfs.ReadFile("/proc/3/comm"), Is.EqualTo("a-name-longer-t\n"), "at most 15 bytes, as Linux's TASK_COMM_LEN");
        vfs.Processes.All.Remove(3);
        Assert.That(vfs.StatError("/proc/3/stat"), Is.EqualTo(-2), "a process that is gone");
        Assert.That(vfs.StatError("/proc/007"), Is.EqualTo(-2));
        Assert.That(vfs.StatError("/proc/nothing"), Is.EqualTo(-2));
    }

    /// <summary>/proc/stat as top reads it: the cpu line in clock ticks (busy time as user, the idle
    /// time), the same columns as the host kernel's, btime from the wall clock less the uptime;
    /// /proc/loadavg as Linux formats it.</summary>
    [Test]
    public void ProcStatAndLoadavgHaveLinuxsLayout()
    {
        var vfs = new Vfs();
        vfs.System.UptimeNanoseconds = 12_340_000_000;
        vfs.System.IdleNanoseconds = 10_000_000_000;
        vfs.Processes.All[3] = new ProcessStatus { Pid = 3, Name = "init" };
        string[] lines = vfs.ReadFile("/proc/stat").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("cpu  234 0 0 1000 0 0 0 0 0 0"));
        Assert.That(lines[1], Is.EqualTo("cpu0 234 0 0 1000 0 0 0 0 0 0"));
        string hostCpu = File.ReadAllLines("/proc/stat")[0];
        Assert.That(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).Length,
            Is.EqualTo(hostCpu.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length), "as many columns as the host's cpu line");
        Assert.That(lines, Does.Contain("btime " + ((vfs.Time - 12_340_000_000) / 1_000_000_000).ToString()));
        Assert.That(lines, Does.Contain("processes 2"));
        Assert.That(vfs.ReadFile("/proc/loadavg"), Is.EqualTo("0.00 0.00 0.00 1/2 7\n"));
        Assert.That(System.Text.RegularExpressions.Regex.IsMatch(File.ReadAllText("/proc/loadavg"), @"^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+/\d+ \d+\n$"), "the host's has the same shape");
    }

    /// <summary>top divides differences of /proc/stat's cpu columns, so no column may go back
    /// between reads, even when the idle clock (TSC) runs ahead of the uptime clock (timer ticks),
    /// as it did on a loaded host, or when busy = uptime - idle would lose a tick to rounding.</summary>
    [Test]
    public void ProcStatCpuColumnsNeverGoBack()
    {
        var vfs = new Vfs();
        (long uptime, long idle)[] samples =
        {
            (1_000_000_000, 900_000_000), (1_050_000_000, 990_000_000), (1_900_000_000, 1_000_000_000),
            (2_000_000_000, 1_990_000_000), (2_010_000_000, 2_500_000_000), (2_600_000_000, 2_510_000_000),
        };
        long lastBusy = 0, lastIdle = 0;
        foreach (var (uptime, idle) in samples)
        {
            vfs.System.UptimeNanoseconds = uptime;
            vfs.System.IdleNanoseconds = idle;
            string[] cpu = vfs.ReadFile("/proc/stat").Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long busy = long.Parse(cpu[1]), idleTicks = long.Parse(cpu[4]);
            Assert.That(busy, Is.GreaterThanOrEqualTo(lastBusy), $"busy went back at uptime {uptime}, idle {idle}");
            Assert.That(idleTicks, Is.GreaterThanOrEqualTo(lastIdle), $"idle went back at uptime {uptime}, idle {idle}");
            lastBusy = busy; lastIdle = idleTicks;
        }
        Assert.That(lastBusy, Is.EqualTo(90), "busy held at the 0.9 s it reached before idle ran ahead");
        Assert.That(lastIdle, Is.EqualTo(251));
    }

    [Test]
    public void ProcIsReadOnly()
    {
        var vfs = new Vfs();
        Assert.That(vfs.Open("/proc/meminfo", LinuxFile.O_WRONLY), Is.EqualTo(-13), "EACCES");
        Assert.That(vfs.Open("/proc/new", 0x41), Is.EqualTo(-13), "creating: EACCES");
        Assert.That(vfs.Files.MakeDirectoryAt(-100, "/proc/d", 0x1ED), Is.EqualTo(-1), "EPERM");
        Assert.That(vfs.Files.UnlinkAt(-100, "/proc/meminfo", 0), Is.EqualTo(-1));
        Assert.That(vfs.Files.UnlinkAt(-100, "/proc", LinuxFile.AT_REMOVEDIR), Is.EqualTo(-16), "a mount point: EBUSY");
        Assert.That(vfs.Files.RenameAt(-100, "/tmp", -100, "/tmp2", 0), Is.EqualTo(-16));
        Assert.That(vfs.Files.ChmodAt(-100, "/proc/meminfo", 0x1FF, 0), Is.EqualTo(-1));
    }

    [Test]
    public void ProcFilesAreSnapshotsTakenAtOpen()
    {
        var vfs = new Vfs();
        int fd = (int)vfs.Open("/proc/uptime", 0);
        vfs.System.UptimeNanoseconds = 99_000_000_000;
        Assert.That(vfs.Read(fd), Is.EqualTo("12.34 0.00\n"));
        Assert.That(vfs.Files.Seek(fd, 0, LinuxFile.SEEK_SET), Is.EqualTo(0));
        Assert.That(vfs.Read(fd, 5), Is.EqualTo("12.34"));
        Assert.That(vfs.ReadFile("/proc/uptime"), Is.EqualTo("99.00 0.00\n"));
        Assert.That(vfs.Stat("/proc/uptime").Size, Is.EqualTo(0), "proc files report size 0");
    }

    [Test]
    public void SelfFdLinksNameTheOpenFilesAndReopenThem()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/data", "payload");
        int fd = (int)vfs.Open("/tmp/data", 0);
        Assert.That(vfs.Files.Pipe2(0, out int r, out int w), Is.EqualTo(0));
        var names = vfs.List("/proc/self/fd").Select(e => e.Name).ToList();
        Assert.That(names, Is.EqualTo(new[] { ".", "..", "0", "1", "2", fd.ToString(), r.ToString(), w.ToString(), (w + 1).ToString() }),
            "the descriptor the listing itself reads through is listed too, as on Linux");
        Assert.That(vfs.Files.ReadLinkAt(-100, "/proc/self/fd/" + fd, out string target), Is.EqualTo(0));
        Assert.That(target, Is.EqualTo("/tmp/data"));
        Assert.That(vfs.Files.ReadLinkAt(-100, "/proc/self/fd/0", out string terminal), Is.EqualTo(0));
        Assert.That(terminal, Is.EqualTo("/dev/console"));
        Assert.That(vfs.Files.ReadLinkAt(-100, "/proc/self/fd/" + r, out string pipe), Is.EqualTo(0));
        Assert.That(pipe, Does.Match(@"^pipe:\[\d+\]$"));
        // Removed, then reopened through the magic link: the same inode.
        Assert.That(vfs.Files.UnlinkAt(-100, "/tmp/data", 0), Is.EqualTo(0));
        Assert.That(vfs.ReadFile("/proc/self/fd/" + fd), Is.EqualTo("payload"));
        // A pipe reopened for writing through the link carries bytes to the read end.
        int w2 = (int)vfs.Open("/proc/self/fd/" + w, LinuxFile.O_WRONLY);
        Assert.That(vfs.Write(w2, "via link"), Is.EqualTo(8));
        Assert.That(vfs.Read(r), Is.EqualTo("via link"));
        Assert.That(vfs.StatError("/proc/self/fd/99"), Is.EqualTo(-2));
        Assert.That(vfs.Stat("/proc/self/fd/" + r).Mode & LinuxFile.S_IFMT, Is.EqualTo(LinuxFile.S_IFIFO));
        // lstat: Linux's modes by how the description was opened (r-x, -wx, rwx) and st_size 64.
        Assert.That(vfs.Stat("/proc/self/fd/" + r, follow: false).Mode, Is.EqualTo(LinuxFile.S_IFLNK | 0x140), "read end: lr-x------");
        Assert.That(vfs.Stat("/proc/self/fd/" + w, follow: false).Mode, Is.EqualTo(LinuxFile.S_IFLNK | 0xC0), "write end: l-wx------");
        vfs.CreateFile("/tmp/rw", "x");
        int rw = (int)vfs.Open("/tmp/rw", LinuxFile.O_RDWR);
        Assert.That(vfs.Stat("/proc/self/fd/" + rw, follow: false).Mode, Is.EqualTo(LinuxFile.S_IFLNK | 0x1C0), "read-write: lrwx------");
        Assert.That(vfs.Stat("/proc/self/fd/" + rw, follow: false).Size, Is.EqualTo(64));
    }

    [Test]
    public void SelfCwdFollowsChdir()
    {
        var vfs = new Vfs();
        Assert.That(vfs.Files.ChangeDirectory("/tmp"), Is.EqualTo(0));
        Assert.That(vfs.Files.ReadLinkAt(-100, "/proc/self/cwd", out string cwd), Is.EqualTo(0));
        Assert.That(cwd, Is.EqualTo("/tmp"));
    }
}
