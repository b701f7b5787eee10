// /proc: generated directories, files and symbolic links, in Linux's formats (proc(5)). Pure logic;
// compiles under the real .NET. What it shows comes from three sources the rest of the personality
// fills (ProcSources): the process table (pids, stat fields, command lines: helper "core"), the
// memory map (IMemoryMapSource: core's VMA table; until it is set, maps lists nothing) and the
// system (ISystemInfo: memory, uptime, CPU, from the InfoPage). Nothing here invents a value: a
// field no source knows is 0, as Linux prints fields it does not track.
//
// Invariants: a file's content is generated once, when it is opened (the open file keeps that
// snapshot, as seq_file files behave for a reader of a small file); directories cache their
// nodes by name so inode numbers stay stable while the entry exists.
using System.Collections.Generic;
using System.Text;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    /// <summary>What /proc/&lt;pid&gt;/stat, status, cmdline and exe show about one process.</summary>
    public sealed class ProcessStatus
    {
        public int Pid, ParentPid, ProcessGroup, Session;
        public int TtyNumber;                 // tty_nr (device number of the controlling terminal, 0: none)
        public int TerminalProcessGroup = -1; // tpgid
        public char State = 'R';
        public string Name = "";              // comm (at most 15 bytes shown)
        public long UserTicks, SystemTicks, ChildUserTicks, ChildSystemTicks; // clock ticks (USER_HZ = 100)
        public long StartTicks;               // since boot, clock ticks
        public int Threads = 1;
        public long VirtualBytes, ResidentPages;
        public ulong StartCode, EndCode, StartStack;
        public string[] Arguments = new string[0];
        public string ExecutablePath;         // null: unknown (exe then does not exist)

        /// <summary>Brings the memory figures up to date just before stat or status is generated (the
        /// current process's table sets it; not copied: a copy is another process's snapshot). Not
        /// run on a mere lookup under /proc/PID: path resolution through /proc/self must stay cheap.</summary>
        public System.Action<ProcessStatus> MeasureMemory;

        /// <summary>A copy of every field but MeasureMemory (the arguments array is shared: it is replaced, never changed).</summary>
        public ProcessStatus Copy() => new ProcessStatus
        {
            Pid = Pid, ParentPid = ParentPid, ProcessGroup = ProcessGroup, Session = Session, TtyNumber = TtyNumber,
            TerminalProcessGroup = TerminalProcessGroup, State = State, Name = Name, UserTicks = UserTicks, SystemTicks = SystemTicks,
            ChildUserTicks = ChildUserTicks, ChildSystemTicks = ChildSystemTicks, StartTicks = StartTicks, Threads = Threads,
            VirtualBytes = VirtualBytes, ResidentPages = ResidentPages, StartCode = StartCode, EndCode = EndCode, StartStack = StartStack,
            Arguments = Arguments, ExecutablePath = ExecutablePath,
        };
    }

    /// <summary>The processes /proc lists (helper core's process table).</summary>
    public interface IProcessTable
    {
        int CurrentPid { get; }
        /// <summary>Adds the pids known, ascending.</summary>
        void ListPids(List<int> pids);
        /// <summary>The process's status, or null if there is none.</summary>
        ProcessStatus Find(int pid);
    }

    /// <summary>One line of /proc/self/maps.</summary>
    public struct MemoryMapping
    {
        public ulong Start, End, Offset, Inode;
        public bool Readable, Writable, Executable, Shared;
        public uint DeviceMajor, DeviceMinor;
        public string Path; // null or "": anonymous; "[heap]", "[stack]", a file path
    }

    /// <summary>The current process's mappings (helper core's VMA table).</summary>
    public interface IMemoryMapSource
    {
        /// <summary>Adds the mappings, ascending by address.</summary>
        void GetMappings(List<MemoryMapping> mappings);
    }

    /// <summary>The machine, as /proc/meminfo, uptime and cpuinfo show it.</summary>
    public interface ISystemInfo
    {
        long MemoryTotalBytes { get; }
        long MemoryFreeBytes { get; }
        long UptimeNanoseconds { get; }
        /// <summary>Time the CPU spent idle since boot (the kernel's halted time).</summary>
        long IdleNanoseconds { get; }
        int CpuCount { get; }
        string CpuVendor { get; }
        string CpuModelName { get; }
        long CpuKilohertz { get; }
        /// <summary>The processor's caches (sysfs's cpu0/cache), in CPUID's order.</summary>
        List<CpuCache> CpuCaches();
        /// <summary>TSC ticks the CPU spent halted since boot (InfoPage.IdleTimestampTicks): /proc/aegis/idle_tsc.</summary>
        ulong IdleTimestampTicks { get; }
        /// <summary>CR3 loads since boot (InfoPage.AddressSpaceLoads): /proc/aegis/address_space_loads.</summary>
        ulong AddressSpaceLoads { get; }
    }

    /// <summary>The disk the root file system is on, as the file server uses it (/proc/diskstats,
    /// /proc/sys/vm/drop_caches). Null in FileSystemSources: no disk.</summary>
    public interface IDiskSource
    {
        /// <summary>The file server's requests to the disk since it mounted it: false without a disk.</summary>
        bool Statistics(out DiskStatistics statistics);
        /// <summary>drop_caches: the server writes back, then forgets its cached blocks and listings. 0 or -errno.</summary>
        long DropCaches();
    }

    public struct DiskStatistics
    {
        public ulong Reads, SectorsRead, Writes, SectorsWritten;
        /// <summary>What Linux would call the disk: "vda" (virtio) or "sda" (AHCI).</summary>
        public string Name;
    }

    /// <summary>A /proc file: regular, size 0, content generated at open; read-only, or (Writer set)
    /// write-only, each write handed to Writer (/proc/sys/vm/drop_caches).</summary>
    public sealed unsafe class ProcFile : Inode
    {
        private readonly System.Func<byte[]> _generate;
        /// <summary>Takes one write's bytes: the count taken or -errno. Null: the file is read-only.</summary>
        public readonly System.Func<byte[], long> Writer;

        public ProcFile(Mount mount, ulong number, System.Func<byte[]> generate, long now)
            : base(mount, number, LinuxFile.S_IFREG | 0x124, now) { _generate = generate; }

        public ProcFile(Mount mount, ulong number, System.Func<byte[], long> writer, long now)
            : base(mount, number, LinuxFile.S_IFREG | 0x80, now) { _generate = () => new byte[0]; Writer = writer; }

        public byte[] Generate() => _generate();
    }

    /// <summary>A /proc symbolic link whose target is computed when read; MagicTarget (the fd links)
    /// names the inode it stands for, which path resolution uses instead of the text (Linux's
    /// "magic links": /proc/self/fd/N reopens the very file, even a pipe or a removed file).</summary>
    public sealed class ProcSymlink : SymlinkNode
    {
        private readonly System.Func<string> _target;
        private readonly System.Func<Inode> _magic;

        public ProcSymlink(Mount mount, ulong number, System.Func<string> target, System.Func<Inode> magic, long now)
            : base(mount, number, "", now)
        {
            _target = target; _magic = magic;
            Mode = LinuxFile.S_IFLNK | 0x1FF;
        }

        public override string Target => _target() ?? "";
        public Inode MagicTarget => _magic?.Invoke();

        /// <summary>For the fd links: the permission bits, computed at each stat (Linux's: r-x for a
        /// description open for reading, -wx for writing, rwx for both), and st_size 64.</summary>
        public System.Func<uint> Permissions;

        public override long Size => Permissions != null ? 64 : base.Size;

        public override StatInfo Stat()
        {
            StatInfo info = base.Stat();
            if (Permissions != null) info.Mode = LinuxFile.S_IFLNK | Permissions();
            return info;
        }
    }

    /// <summary>A generated /proc directory: a fixed list of names plus (root) the pids.</summary>
    public abstract class ProcDirectory : DirectoryNode
    {
        protected readonly ProcFs Proc;
        private readonly Dictionary<string, Inode> _cache = new Dictionary<string, Inode>();

        protected ProcDirectory(ProcFs proc, uint permissions) : base(proc.Mount, proc.FileSystem.NewInodeNumber(), permissions, proc.FileSystem.Now)
        {
            Proc = proc;
        }

        /// <summary>The names in listing order (regenerated on each call).</summary>
        protected abstract void Names(List<string> names);
        /// <summary>Makes the node for name (null: no such entry).</summary>
        protected abstract Inode Create(string name);

        /// <summary>Whether name is an entry now: Names' answer, which a directory may give faster
        /// (a path through /proc/self/... looks up each component; listing every pid for each cost
        /// a .NET start tens of thousands of instructions).</summary>
        protected virtual bool Has(string name)
        {
            var names = new List<string>();
            Names(names);
            return names.Contains(name);
        }

        public override Inode Lookup(string name)
        {
            if (!Has(name)) { _cache.Remove(name); return null; }
            if (_cache.TryGetValue(name, out Inode node)) return node;
            node = Create(name);
            if (node == null) return null;
            if (node is DirectoryNode directory) { directory.Parent = this; directory.NameInParent = name; }
            _cache[name] = node;
            return node;
        }

        public override bool EntryAt(int index, out string name, out Inode node)
        {
            var names = new List<string>();
            Names(names);
            name = null; node = null;
            if (index < 0 || index >= names.Count) return false;
            name = names[index];
            node = Lookup(name);
            if (node == null) name = null;
            return true;
        }

        public override bool IsEmpty
        {
            get { var names = new List<string>(); Names(names); return names.Count == 0; }
        }
    }

    /// <summary>The proc file system: its root directory and the formats of its files.</summary>
    public sealed unsafe class ProcFs
    {
        public readonly FileSystem FileSystem;
        public readonly Mount Mount;
        public readonly ProcRoot Root;

        public ProcFs(FileSystem fileSystem, Mount mount)
        {
            FileSystem = fileSystem;
            Mount = mount;
            Root = new ProcRoot(this);
        }

        public IProcessTable Processes => FileSystem.Sources.Processes;

        /// <summary>The cpu columns /proc/stat last showed: they never go back (see CpuTicks).</summary>
        public readonly CpuTicks StatFloor = new CpuTicks();

        internal ProcFile File(System.Func<string> text) =>
            new ProcFile(Mount, FileSystem.NewInodeNumber(), () => PathBytes.ToBytes(text()), FileSystem.Now);

        internal ProcSymlink Link(System.Func<string> target, System.Func<Inode> magic = null) =>
            new ProcSymlink(Mount, FileSystem.NewInodeNumber(), target, magic, FileSystem.Now);

        // ---- formats ----

        /// <summary>/proc/diskstats: Linux's 17 fields of the root file system's disk (major 254 minor 0
        /// as stat's st_dev says), as the file server counted its requests; empty without a disk.
        /// Fields the libOS does not track (merges, times, discards, flushes) are 0.</summary>
        /// <summary>/proc/aegis/file_server: "NAME COUNT" a line for every operation of the file
        /// server's protocol (VfsProtocol.Names, in its order), the requests it answered since it
        /// started, from every process; then "ended_without_goodbye N": the processes it found ended
        /// without exit's Goodbye and let go of (VfsIpc.NoticeEnds); empty without a server.</summary>
        public static string FormatFileServerCalls(System.Func<long[], bool> source)
        {
            var calls = new long[VfsProtocol.Count + VfsProtocol.ServerFacts];
            if (source == null || !source(calls)) return "";
            var text = new System.Text.StringBuilder();
            for (int op = 1; op < VfsProtocol.Count; op++)
                text.Append(VfsProtocol.Names[op]).Append(' ').Append(calls[op].ToString()).Append('\n');
            text.Append("ended_without_goodbye ").Append(calls[VfsProtocol.Count + 3].ToString()).Append('\n');
            return text.ToString();
        }

        /// <summary>/proc/aegis/handover: "given N" (connections the file server handed to processes
        /// to run: docs/libos-unixish.md, "Connections run by the process") and "taken_back N"
        /// (connections it took over from them), "lent N" (listeners whose new connections it let
        /// a process run from their first segment: "The listener in the process"),
        /// "handshakes_requeued N" (handshakes a borrower's twin answered and gave back to the
        /// listener here at the loan's return), "lends_undone N" (Lends taken back at once: a
        /// handshake of the server's own on the port), "late_port_segments N" (segments a process
        /// gave here that reached it for a port whose loan had just gone back or been undone),
        /// since it started; empty without a server.</summary>
        public static string FormatHandover(System.Func<long[], bool> source)
        {
            var facts = new long[VfsProtocol.Count + VfsProtocol.ServerFacts];
            if (source == null || !source(facts)) return "";
            return "given " + facts[VfsProtocol.Count].ToString() + "\ntaken_back " + facts[VfsProtocol.Count + 1].ToString()
                + "\nlent " + facts[VfsProtocol.Count + 2].ToString() + "\nhandshakes_requeued " + facts[VfsProtocol.Count + 4].ToString() + "\nlends_undone " + facts[VfsProtocol.Count + 5].ToString()
                + "\nlate_port_segments " + facts[VfsProtocol.Count + 6].ToString() + "\n";
        }

        public static string FormatDiskstats(IDiskSource disk)
        {
            if (disk == null || !disk.Statistics(out DiskStatistics s)) return "";
            var b = new StringBuilder(128);
            b.Append(" 254       0 ").Append(s.Name ?? "vda").Append(' ');
            b.Append(s.Reads).Append(" 0 ").Append(s.SectorsRead).Append(" 0 ");
            b.Append(s.Writes).Append(" 0 ").Append(s.SectorsWritten).Append(" 0 ");
            b.Append("0 0 0 0 0 0 0 0 0\n");
            return b.ToString();
        }

        /// <summary>A write to /proc/sys/vm/drop_caches: "1", "2" or "3" (and a newline) drop the
        /// disk's caches (the file server keeps one cache of blocks and names: every value drops
        /// both); anything else is EINVAL, as Linux.</summary>
        public static long DropCaches(IDiskSource disk, byte[] bytes)
        {
            int length = bytes.Length;
            while (length > 0 && (bytes[length - 1] == (byte)'\n' || bytes[length - 1] == (byte)' ')) length--;
            if (length != 1 || bytes[0] < (byte)'1' || bytes[0] > (byte)'3') return -Errno.EINVAL;
            if (disk != null)
            {
                long error = disk.DropCaches();
                if (error < 0) return error;
            }
            return bytes.Length;
        }

        /// <summary>/proc/&lt;pid&gt;/stat: the 52 fields of Linux's proc_pid_stat, one line.</summary>
        public static string FormatStat(ProcessStatus p)
        {
            var b = new StringBuilder(256);
            string comm = p.Name.Length > 15 ? p.Name.Substring(0, 15) : p.Name;
            b.Append(p.Pid).Append(" (").Append(comm).Append(") ").Append(p.State).Append(' ');
            b.Append(p.ParentPid).Append(' ').Append(p.ProcessGroup).Append(' ').Append(p.Session).Append(' ');
            b.Append(p.TtyNumber).Append(' ').Append(p.TerminalProcessGroup).Append(' ');
            b.Append("4194304 0 0 0 0 "); // flags (PF_RANDOMIZE as Linux shows for a user task), minflt, cminflt, majflt, cmajflt
            b.Append(p.UserTicks).Append(' ').Append(p.SystemTicks).Append(' ');
            b.Append(p.ChildUserTicks).Append(' ').Append(p.ChildSystemTicks).Append(' ');
            b.Append("20 0 ").Append(p.Threads).Append(" 0 "); // priority, nice, num_threads, itrealvalue
            b.Append(p.StartTicks).Append(' ').Append(p.VirtualBytes).Append(' ').Append(p.ResidentPages).Append(' ');
            b.Append("18446744073709551615 "); // rsslim: RLIM_INFINITY
            b.Append(p.StartCode).Append(' ').Append(p.EndCode).Append(' ').Append(p.StartStack).Append(' ');
            b.Append("0 0 0 0 0 0 0 0 0 "); // kstkesp kstkeip signal blocked sigignore sigcatch wchan nswap cnswap
            b.Append("17 0 0 0 0 0 0 "); // exit_signal SIGCHLD, processor, rt_priority, policy, delayacct, guest, cguest
            b.Append("0 0 0 0 0 0 0 0\n"); // start_data end_data start_brk arg_start arg_end env_start env_end exit_code
            return b.ToString();
        }

        /// <summary>/proc/&lt;pid&gt;/status: the common lines (Name, State, Tgid, Pid, PPid, Uid, Gid, VmSize, VmRSS, Threads).</summary>
        public static string FormatStatus(ProcessStatus p)
        {
            var b = new StringBuilder(256);
            string comm = p.Name.Length > 15 ? p.Name.Substring(0, 15) : p.Name;
            b.Append("Name:\t").Append(comm).Append('\n');
            b.Append("State:\t").Append(p.State).Append(" (").Append(StateName(p.State)).Append(")\n");
            b.Append("Tgid:\t").Append(p.Pid).Append('\n');
            b.Append("Pid:\t").Append(p.Pid).Append('\n');
            b.Append("PPid:\t").Append(p.ParentPid).Append('\n');
            b.Append("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
            b.Append("VmSize:\t").Append(Padded(p.VirtualBytes / 1024, 8)).Append(" kB\n");
            b.Append("VmRSS:\t").Append(Padded(p.ResidentPages * 4, 8)).Append(" kB\n");
            b.Append("Threads:\t").Append(p.Threads).Append('\n');
            return b.ToString();
        }

        private static string StateName(char state)
        {
            switch (state)
            {
                case 'R': return "running";
                case 'S': return "sleeping";
                case 'D': return "disk sleep";
                case 'T': return "stopped";
                case 't': return "tracing stop";
                case 'Z': return "zombie";
                case 'X': return "dead";
                default: return "unknown";
            }
        }

        /// <summary>/proc/&lt;pid&gt;/cmdline: the arguments, each followed by a NUL.</summary>
        public static string FormatCommandLine(ProcessStatus p)
        {
            var b = new StringBuilder();
            for (int i = 0; i < p.Arguments.Length; i++) b.Append(p.Arguments[i]).Append('\0');
            return b.ToString();
        }

        private static string Padded(long value, int width) => value.ToString().PadLeft(width);

        /// <summary>/proc/meminfo (the fields busybox free reads; kB, Linux's column layout).</summary>
        public static string FormatMeminfo(ISystemInfo system)
        {
            byte[] bytes = MeminfoBytes(system);
            fixed (byte* p = bytes) return PathBytes.ToString(p, bytes.Length);
        }

        private static readonly string[] s_meminfoNames =
            { "MemTotal:", "MemFree:", "MemAvailable:", "Buffers:", "Cached:", "SwapCached:", "SwapTotal:", "SwapFree:", "Shmem:" };

        /// <summary>/proc/meminfo as the file's bytes: each line the name padded to 16 columns, the
        /// kilobytes right-aligned in 8 (wider when they need it), " kB". Written straight into an
        /// array of the exact size: the .NET runtime reads this file at every start, and building it
        /// through padded strings and a StringBuilder cost ~20,000 instructions.</summary>
        public static byte[] MeminfoBytes(ISystemInfo system)
        {
            long total = system.MemoryTotalBytes / 1024, free = system.MemoryFreeBytes / 1024;
            string[] names = s_meminfoNames;
            long* values = stackalloc long[names.Length];
            values[0] = total; values[1] = free; values[2] = free; // the rest are 0: no buffers, cache, swap or shmem
            for (int i = 3; i < names.Length; i++) values[i] = 0;
            int length = 0;
            for (int i = 0; i < names.Length; i++)
            {
                int digits = DecimalDigits((ulong)values[i]);
                length += 16 + (digits < 8 ? 8 : digits) + 4;
            }
            byte[] text = new byte[length];
            fixed (byte* first = text)
            {
                byte* p = first;
                for (int i = 0; i < names.Length; i++)
                {
                    string name = names[i];
                    for (int k = 0; k < 16; k++) p[k] = k < name.Length ? (byte)name[k] : (byte)' ';
                    p += 16;
                    int digits = DecimalDigits((ulong)values[i]);
                    for (; digits < 8; digits++) *p++ = (byte)' ';
                    p = PutDecimal(p, (ulong)values[i]);
                    p[0] = (byte)' '; p[1] = (byte)'k'; p[2] = (byte)'B'; p[3] = (byte)'\n';
                    p += 4;
                }
            }
            return text;
        }

        /// <summary>/proc/uptime: seconds since boot and seconds the CPU was idle (the kernel's
        /// halted time, InfoPage.IdleTimestampTicks), two decimals each.</summary>
        public static string FormatUptime(ISystemInfo system)
            => Centiseconds(system.UptimeNanoseconds) + " " + Centiseconds(system.IdleNanoseconds) + "\n";

        /// <summary>/proc/stat (what top and vmstat read): the "cpu" and "cpu0" lines in clock ticks
        /// (USER_HZ 100) — the time not idle counted as user time (the libOS serves system calls in
        /// user mode; the kernel's own share is not told apart), idle the kernel's halted time, the
        /// other columns 0 — then intr, ctxt 0 (not counted), btime (the boot's wall time), processes
        /// (the pids known), procs_running 1, procs_blocked 0.</summary>
        public static string FormatSystemStat(ISystemInfo system, long nowNanoseconds, IProcessTable processes, CpuTicks floor = null)
        {
            long busy, idle;
            (floor ?? new CpuTicks()).Next(system.UptimeNanoseconds, system.IdleNanoseconds, out busy, out idle);
            string times = busy.ToString() + " 0 0 " + idle.ToString() + " 0 0 0 0 0 0\n";
            int count = 0;
            if (processes != null)
            {
                var pids = new List<int>();
                processes.ListPids(pids);
                count = pids.Count;
            }
            long boot = (nowNanoseconds - system.UptimeNanoseconds) / 1_000_000_000;
            return "cpu  " + times + "cpu0 " + times + "intr 0\nctxt 0\nbtime " + (boot < 0 ? 0 : boot).ToString() + "\n"
                + "processes " + count.ToString() + "\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n";
        }

        /// <summary>The busy and idle columns of /proc/stat, in clock ticks (USER_HZ 100), which
        /// never go back between two reads: top divides their differences, and a column that went
        /// back (an unsigned difference) printed garbage. Uptime comes from the timer's ticks and idle
        /// time from the TSC, two clocks that drift apart on a loaded host (idle once passed uptime),
        /// and busy = uptime - idle, each rounded down, may also lose a tick. So busy is rounded once
        /// from the difference, and each column is held at least at what it last showed.</summary>
        public sealed class CpuTicks
        {
            private long _busy, _idle;

            public void Next(long uptimeNanoseconds, long idleNanoseconds, out long busy, out long idle)
            {
                if (idleNanoseconds > uptimeNanoseconds) idleNanoseconds = uptimeNanoseconds;
                if (idleNanoseconds < 0) idleNanoseconds = 0;
                busy = (uptimeNanoseconds - idleNanoseconds) / 10_000_000;
                idle = idleNanoseconds / 10_000_000;
                if (busy < _busy) busy = _busy;
                if (idle < _idle) idle = _idle;
                _busy = busy;
                _idle = idle;
            }
        }

        /// <summary>/proc/loadavg: "0.00 0.00 0.00 1/N LAST" — Aegis keeps no load averages (sysinfo's
        /// loads are 0 too); N the pids known, LAST the highest of them.</summary>
        public static string FormatLoadAverage(IProcessTable processes)
        {
            var pids = new List<int>();
            processes?.ListPids(pids);
            int last = 0;
            for (int i = 0; i < pids.Count; i++) if (pids[i] > last) last = pids[i];
            return "0.00 0.00 0.00 1/" + pids.Count.ToString() + " " + last.ToString() + "\n";
        }

        private static string Centiseconds(long nanoseconds)
        {
            long centiseconds = nanoseconds / 10_000_000;
            return (centiseconds / 100).ToString() + "." + (centiseconds % 100).ToString().PadLeft(2, '0');
        }

        /// <summary>/proc/mounts: "source mountpoint type options 0 0" per mount.</summary>
        public static string FormatMounts(List<Mount> mounts)
        {
            var b = new StringBuilder();
            for (int i = 0; i < mounts.Count; i++)
            {
                Mount m = mounts[i];
                b.Append(m.Source).Append(' ').Append(m.MountPoint).Append(' ').Append(m.Type).Append(' ').Append(m.Options).Append(" 0 0\n");
            }
            return b.ToString();
        }

        /// <summary>/proc/cpuinfo: processor, vendor_id, model name and cpu MHz per CPU.</summary>
        public static string FormatCpuinfo(ISystemInfo system)
        {
            var b = new StringBuilder();
            int count = system.CpuCount < 1 ? 1 : system.CpuCount;
            long khz = system.CpuKilohertz;
            for (int i = 0; i < count; i++)
            {
                b.Append("processor\t: ").Append(i).Append('\n');
                b.Append("vendor_id\t: ").Append(system.CpuVendor).Append('\n');
                b.Append("model name\t: ").Append(system.CpuModelName).Append('\n');
                b.Append("cpu MHz\t\t: ").Append(khz / 1000).Append('.').Append((khz % 1000).ToString().PadLeft(3, '0')).Append('\n');
                b.Append("siblings\t: ").Append(count).Append('\n');
                b.Append("cpu cores\t: ").Append(count).Append("\n\n");
            }
            return b.ToString();
        }

        /// <summary>/proc/self/maps: Linux's show_map_vma layout (path column at 73), as text.</summary>
        public static string FormatMaps(List<MemoryMapping> mappings)
        {
            byte[] bytes = MapsBytes(mappings);
            fixed (byte* p = bytes) return PathBytes.ToString(p, bytes.Length);
        }

        /// <summary>/proc/self/maps as the file's bytes (paths in UTF-8): each line measured, then
        /// written digit by digit into one array of the exact size. glibc's pthread_getattr_np and
        /// the .NET runtime read this file at every start; formatting each number as a string of
        /// its own cost 6,000 instructions a line, and an array sized for the worst case (then
        /// copied) cost a .NET start ~27,000 instructions of heap growth and copying.</summary>
        public static byte[] MapsBytes(List<MemoryMapping> mappings)
        {
            int total = 0;
            for (int i = 0; i < mappings.Count; i++) total += MapsLineLength(mappings[i]);
            byte[] text = new byte[total];
            fixed (byte* first = text)
            {
                byte* p = first;
                for (int i = 0; i < mappings.Count; i++)
                {
                    MemoryMapping m = mappings[i];
                    byte* lineStart = p;
                    p = PutHex(p, m.Start, 8);
                    *p++ = (byte)'-';
                    p = PutHex(p, m.End, 8);
                    p[0] = (byte)' ';
                    p[1] = m.Readable ? (byte)'r' : (byte)'-';
                    p[2] = m.Writable ? (byte)'w' : (byte)'-';
                    p[3] = m.Executable ? (byte)'x' : (byte)'-';
                    p[4] = m.Shared ? (byte)'s' : (byte)'p';
                    p[5] = (byte)' ';
                    p = PutHex(p + 6, m.Offset, 8);
                    *p++ = (byte)' ';
                    p = PutHex(p, m.DeviceMajor, 2);
                    *p++ = (byte)':';
                    p = PutHex(p, m.DeviceMinor, 2);
                    *p++ = (byte)' ';
                    p = PutDecimal(p, m.Inode);
                    *p++ = (byte)' ';
                    string path = m.Path;
                    if (!string.IsNullOrEmpty(path))
                    {
                        long pad = 73 - (p - lineStart);
                        for (; pad >= 8; pad -= 8, p += 8) *(ulong*)p = 0x2020202020202020UL; // eight spaces
                        for (; pad > 0; pad--) *p++ = (byte)' ';
                        fixed (char* c = path)
                            for (int k = 0; k < path.Length; k++) p[k] = (byte)c[k];
                        p += path.Length;
                    }
                    *p++ = (byte)'\n';
                }
            }
            return text;
        }

        /// <summary>The 256 bytes' two hex digits, in order ("000102...ff"): PutHex writes two digits a
        /// step, where a digit at a time cost a .NET start ~30,000 instructions in its /proc/self/maps.</summary>
        private const string HexPairs =
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
            "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" +
            "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" +
            "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f" +
            "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" +
            "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" +
            "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" +
            "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

        private static byte* PutHex(byte* at, ulong value, int minimumDigits)
        {
            int digits = HexDigits(value, minimumDigits);
            byte* p = at + digits;
            fixed (char* pairs = HexPairs)
            {
                for (; p - at >= 2; value >>= 8)
                {
                    char* pair = pairs + 2 * (int)(value & 0xFF);
                    p -= 2;
                    p[0] = (byte)pair[0];
                    p[1] = (byte)pair[1];
                }
                if (p != at) *at = (byte)pairs[2 * (int)(value & 15) + 1];
            }
            return at + digits;
        }

        private static byte* PutDecimal(byte* at, ulong value)
        {
            int digits = DecimalDigits(value);
            for (byte* p = at + digits - 1; p >= at; p--)
            {
                *p = (byte)('0' + (int)(value % 10));
                value /= 10;
            }
            return at + digits;
        }

        /// <summary>The bytes MapsBytes writes for one mapping, its newline included.</summary>
        private static int MapsLineLength(in MemoryMapping m)
        {
            int length = HexDigits(m.Start, 8) + 1 + HexDigits(m.End, 8) + 1 + 4 + 1 + HexDigits(m.Offset, 8) + 1
                + HexDigits(m.DeviceMajor, 2) + 1 + HexDigits(m.DeviceMinor, 2) + 1 + DecimalDigits(m.Inode) + 1;
            if (!string.IsNullOrEmpty(m.Path)) length = (length < 73 ? 73 : length) + m.Path.Length;
            return length + 1;
        }

        private static int HexDigits(ulong value, int minimumDigits)
        {
            int digits = 1;
            if (value >> 32 != 0) { digits += 8; value >>= 32; }
            if (value >> 16 != 0) { digits += 4; value >>= 16; }
            if (value >> 8 != 0) { digits += 2; value >>= 8; }
            if (value >> 4 != 0) digits++;
            return digits < minimumDigits ? minimumDigits : digits;
        }

        private static int DecimalDigits(ulong value)
        {
            int digits = 1;
            for (ulong rest = value / 10; rest != 0; rest /= 10) digits++;
            return digits;
        }

    }

    /// <summary>/proc itself: meminfo, uptime, stat, loadavg, mounts, cpuinfo, self and one directory per pid.</summary>
    public sealed class ProcRoot : ProcDirectory
    {
        private static readonly string[] Fixed = { "aegis", "cpuinfo", "diskstats", "loadavg", "meminfo", "mounts", "self", "stat", "sys", "uptime" };

        public ProcRoot(ProcFs proc) : base(proc, 0x16D) { }

        protected override void Names(List<string> names)
        {
            for (int i = 0; i < Fixed.Length; i++) names.Add(Fixed[i]);
            IProcessTable table = Proc.Processes;
            if (table == null) return;
            var pids = new List<int>();
            table.ListPids(pids);
            for (int i = 0; i < pids.Count; i++) names.Add(pids[i].ToString());
        }

        protected override bool Has(string name)
        {
            for (int i = 0; i < Fixed.Length; i++) if (Fixed[i] == name) return true;
            if (!int.TryParse(name, out int pid) || pid <= 0 || pid.ToString() != name) return false;
            IProcessTable table = Proc.Processes;
            return table != null && (table.CurrentPid == pid || table.Find(pid) != null);
        }

        protected override Inode Create(string name)
        {
            FileSystem fs = Proc.FileSystem;
            switch (name)
            {
                case "meminfo": return new ProcFile(Proc.Mount, fs.NewInodeNumber(), () => ProcFs.MeminfoBytes(fs.Sources.System), fs.Now);
                case "uptime": return Proc.File(() => ProcFs.FormatUptime(fs.Sources.System));
                case "stat": return Proc.File(() => ProcFs.FormatSystemStat(fs.Sources.System, fs.Now, Proc.Processes, Proc.StatFloor));
                case "loadavg": return Proc.File(() => ProcFs.FormatLoadAverage(Proc.Processes));
                case "cpuinfo": return Proc.File(() => ProcFs.FormatCpuinfo(fs.Sources.System));
                case "mounts": return Proc.File(() => ProcFs.FormatMounts(fs.Mounts));
                case "self": return Proc.Link(() => Proc.Processes == null ? "" : Proc.Processes.CurrentPid.ToString());
                case "diskstats": return Proc.File(() => ProcFs.FormatDiskstats(fs.Sources.Disk));
                case "aegis":
                    return new ProcTable(Proc, 0x16D,
                        ("file_server", () => Proc.File(() => ProcFs.FormatFileServerCalls(fs.Sources.FileServerCalls))),
                        ("handover", () => Proc.File(() => ProcFs.FormatHandover(fs.Sources.FileServerCalls))),
                        ("idle_tsc", () => Proc.File(() => (fs.Sources.System == null ? 0UL : fs.Sources.System.IdleTimestampTicks).ToString() + "\n")),
                        ("address_space_loads", () => Proc.File(() => (fs.Sources.System == null ? 0UL : fs.Sources.System.AddressSpaceLoads).ToString() + "\n")));
                case "sys":
                    return new ProcTable(Proc, 0x16D, ("vm", () => new ProcTable(Proc, 0x16D, ("drop_caches",
                        () => new ProcFile(Proc.Mount, fs.NewInodeNumber(), bytes => ProcFs.DropCaches(fs.Sources.Disk, bytes), fs.Now)))));
            }
            if (!int.TryParse(name, out int pid) || pid.ToString() != name) return null;
            return new ProcPidDirectory(Proc, pid);
        }
    }

    /// <summary>A /proc directory of fixed entries, in the order given (/proc/sys/vm, /proc/aegis).</summary>
    public sealed class ProcTable : ProcDirectory
    {
        private readonly (string Name, System.Func<Inode> Make)[] _entries;

        public ProcTable(ProcFs proc, uint permissions, params (string Name, System.Func<Inode> Make)[] entries) : base(proc, permissions) { _entries = entries; }

        protected override void Names(List<string> names)
        {
            for (int i = 0; i < _entries.Length; i++) names.Add(_entries[i].Name);
        }

        protected override bool Has(string name)
        {
            for (int i = 0; i < _entries.Length; i++) if (_entries[i].Name == name) return true;
            return false;
        }

        protected override Inode Create(string name)
        {
            for (int i = 0; i < _entries.Length; i++) if (_entries[i].Name == name) return _entries[i].Make();
            return null;
        }
    }

    /// <summary>/proc/&lt;pid&gt;: stat, status, cmdline, exe; for the current process also maps, fd/ and cwd.</summary>
    public sealed class ProcPidDirectory : ProcDirectory
    {
        public readonly int Pid;

        public ProcPidDirectory(ProcFs proc, int pid) : base(proc, 0x16D) { Pid = pid; }

        private bool IsCurrent => Proc.Processes != null && Proc.Processes.CurrentPid == Pid;
        private ProcessStatus Status => Proc.Processes?.Find(Pid);

        protected override bool Has(string name)
        {
            switch (name)
            {
                case "cmdline": case "comm": case "stat": case "status": return Status != null;
                case "cwd": case "fd": case "maps": return IsCurrent && Status != null;
                case "exe": return Status?.ExecutablePath != null;
            }
            return false;
        }

        protected override void Names(List<string> names)
        {
            ProcessStatus status = Status;
            if (status == null) return;
            names.Add("cmdline");
            names.Add("comm");
            if (IsCurrent) names.Add("cwd");
            if (status.ExecutablePath != null) names.Add("exe");
            if (IsCurrent) { names.Add("fd"); names.Add("maps"); }
            names.Add("stat");
            names.Add("status");
        }

        protected override Inode Create(string name)
        {
            FileSystem fs = Proc.FileSystem;
            switch (name)
            {
                case "stat": return Proc.File(() => { ProcessStatus s = Status; if (s == null) return ""; s.MeasureMemory?.Invoke(s); return ProcFs.FormatStat(s); });
                case "status": return Proc.File(() => { ProcessStatus s = Status; if (s == null) return ""; s.MeasureMemory?.Invoke(s); return ProcFs.FormatStatus(s); });
                case "cmdline": return Proc.File(() => { ProcessStatus s = Status; return s == null ? "" : ProcFs.FormatCommandLine(s); });
                case "comm": return Proc.File(() => { ProcessStatus s = Status; return s == null ? "" : (s.Name.Length > 15 ? s.Name.Substring(0, 15) : s.Name) + "\n"; });
                case "exe": return Proc.Link(() => Status?.ExecutablePath);
                case "cwd": return Proc.Link(() => fs.Process == null ? "/" : fs.Process.CurrentDirectoryPath(), () => fs.Process?.CurrentDirectory);
                case "maps":
                    return new ProcFile(Proc.Mount, fs.NewInodeNumber(), () =>
                    {
                        var mappings = new List<MemoryMapping>(64); // a .NET process has about 50 at its start
                        fs.Sources.Maps?.GetMappings(mappings);
                        return ProcFs.MapsBytes(mappings);
                    }, fs.Now);
                case "fd": return new ProcFdDirectory(Proc);
            }
            return null;
        }
    }

    /// <summary>/proc/self/fd: one magic link per open descriptor, named by its number.</summary>
    public sealed class ProcFdDirectory : ProcDirectory
    {
        public ProcFdDirectory(ProcFs proc) : base(proc, 0x140) { }

        protected override void Names(List<string> names)
        {
            FileTable table = Proc.FileSystem.Process?.Table;
            if (table == null) return;
            for (int fd = 0; fd < table.Size; fd++)
                if (table.Get(fd) != null) names.Add(fd.ToString());
        }

        protected override Inode Create(string name)
        {
            if (!int.TryParse(name, out int fd) || fd.ToString() != name) return null;
            FileSystem fs = Proc.FileSystem;
            ProcSymlink link = Proc.Link(() => fs.Process?.Table.Get(fd)?.DisplayPath, () => fs.Process?.Table.Get(fd)?.Node);
            link.Mode = LinuxFile.S_IFLNK | 0x1C0; // lrwx------ (what lstat shows comes from Permissions)
            link.Permissions = () =>
            {
                OpenFile file = fs.Process?.Table.Get(fd);
                if (file == null) return 0;
                return (file.CanRead ? 0x140u : 0) | (file.CanWrite ? 0xC0u : 0); // S_IRUSR|S_IXUSR, S_IWUSR|S_IXUSR
            };
            return link;
        }
    }
}
