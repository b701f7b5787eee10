// The machine-facing pieces of the VFS (not host-compiled): the terminal as a character device,
// the system facts /proc shows (InfoPage, CPUID), RDRAND entropy, the embedded root file-system
// archive (Native/linuxfiles.S), and the process table used until helper "core" installs its own.
using System.Collections.Generic;
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    internal static unsafe class FilesNative
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;

        [MethodImpl(Import), RuntimeImport("*", "aegis_linuxfiles_rootfs_start")] public static extern byte* RootfsStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_linuxfiles_rootfs_end")] public static extern byte* RootfsEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_linuxfiles_cpuid")] public static extern void Cpuid(uint leaf, uint subleaf, uint* output);
        [MethodImpl(Import), RuntimeImport("*", "aegis_linuxfiles_rdrand")] public static extern int RdRand(ulong* value);
    }

    /// <summary>/dev/console, /dev/tty and fds 0-2: the Terminal class (helper tty).</summary>
    public sealed unsafe class ConsoleDevice : ICharacterDevice
    {
        public long Read(byte* buffer, int length, bool nonBlocking) => Terminal.Read(buffer, length, nonBlocking);
        public long Write(byte* buffer, int length, bool nonBlocking) => Terminal.Write(buffer, length);
        public long Ioctl(ulong request, ulong argument) => Terminal.Ioctl(request, argument);
        public bool PollReadable => Terminal.PollReadable();
        public bool PollWritable => true;
        public bool Seekable => false;
        public bool Splices => false;
        /// <summary>FIONREAD goes to Terminal.Ioctl (it knows its line buffer).</summary>
        public long BytesReadable => -Errno.ENOTTY;
    }

    /// <summary>The machine from the InfoPage (memory, uptime) and CPUID (vendor, model).</summary>
    public sealed unsafe class MachineInfo : ISystemInfo
    {
        private string _vendor, _model;

        public long MemoryTotalBytes => (long)Info.TotalFrames * 4096;
        public long MemoryFreeBytes => (long)Info.FreeFrames * 4096;
        public long UptimeNanoseconds => (long)Info.Ticks * 1_000_000;
        public long IdleNanoseconds
        {
            get
            {
                ulong hz = Info.GlobalPage->TimestampHz, idle = Info.GlobalPage->IdleTimestampTicks;
                if (hz == 0) return 0;
                return (long)(idle / hz * 1_000_000_000 + idle % hz * 1_000_000_000 / hz);
            }
        }
        public ulong IdleTimestampTicks => Info.GlobalPage->IdleTimestampTicks;
        public ulong AddressSpaceLoads => Info.GlobalPage->AddressSpaceLoads;
        public int CpuCount => 1; // Aegis schedules one CPU
        public long CpuKilohertz => (long)(Info.TimestampHz / 1000);

        public string CpuVendor
        {
            get
            {
                if (_vendor == null)
                {
                    uint* r = stackalloc uint[4];
                    FilesNative.Cpuid(0, 0, r);
                    byte* text = stackalloc byte[12];
                    *(uint*)text = r[1]; *(uint*)(text + 4) = r[3]; *(uint*)(text + 8) = r[2];
                    _vendor = PathBytes.ToString(text, 12);
                }
                return _vendor;
            }
        }

        public string CpuModelName
        {
            get
            {
                if (_model == null)
                {
                    uint* r = stackalloc uint[4];
                    FilesNative.Cpuid(0x80000000, 0, r);
                    if (r[0] < 0x80000004) { _model = "unknown"; return _model; }
                    byte* text = stackalloc byte[48];
                    for (uint leaf = 0; leaf < 3; leaf++)
                    {
                        FilesNative.Cpuid(0x80000002 + leaf, 0, r);
                        for (int i = 0; i < 4; i++) *(uint*)(text + leaf * 16 + i * 4) = r[i];
                    }
                    int length = 0;
                    while (length < 48 && text[length] != 0) length++;
                    _model = PathBytes.ToString(text, length).Trim();
                }
                return _model;
            }
        }

        public List<CpuCache> CpuCaches() => Files.CpuCaches.Decode(RunCpuid);

        private static void RunCpuid(uint leaf, uint subleaf, uint* output) => FilesNative.Cpuid(leaf, subleaf, output);

        /// <summary>Whether CPUID says RDRAND exists (leaf 1, ECX bit 30).</summary>
        public static bool HasRdRand
        {
            get
            {
                uint* r = stackalloc uint[4];
                FilesNative.Cpuid(1, 0, r);
                return (r[2] & (1u << 30)) != 0;
            }
        }
    }

    /// <summary>RDRAND bytes for /dev/random and /dev/urandom.</summary>
    public sealed unsafe class RdRandEntropy : IEntropySource
    {
        public bool Fill(byte* buffer, int length)
        {
            int at = 0;
            ulong value;
            while (at < length)
            {
                if (FilesNative.RdRand(&value) == 0) return false;
                for (int b = 0; b < 8 && at < length; b++, at++) { buffer[at] = (byte)value; value >>= 8; }
            }
            return true;
        }
    }

    /// <summary>The process table /proc shows (FileCalls.Sources.Processes): this process's own entry,
    /// kept here (name, arguments, exe: the loader and prctl set them), and every other process of
    /// the tree from the shared process list (Processes/ProcessRegistry.cs); without that list,
    /// ancestors as they were at the fork while their environments hold a time slice.
    /// pid = the environment id. A fork's child inherits this table: its entry is then its
    /// parent's (the environment id differs); the first look after the fork keeps that entry as an
    /// ancestor's and gives the child a copy with its own ids.</summary>
    public sealed class CurrentProcessTable : IProcessTable
    {
        private ProcessStatus _status = new ProcessStatus();
        private readonly List<ProcessStatus> _ancestors = new List<ProcessStatus>();

        public CurrentProcessTable()
        {
            _status.Pid = (int)Info.EnvironmentId;
            _status.ParentPid = (int)Info.ParentId;
            _status.ProcessGroup = _status.Pid;
            _status.Session = _status.Pid;
            _status.StartTicks = Processes.ProcessRegistry.NowTicks;
        }

        /// <summary>This process's entry (split from the parent's after a fork, see above).</summary>
        public ProcessStatus Status
        {
            get
            {
                if (_status.Pid != (int)Info.EnvironmentId)
                {
                    ProcessStatus own = _status.Copy();
                    own.Pid = (int)Info.EnvironmentId;
                    own.ParentPid = (int)Info.ParentId;
                    own.StartTicks = Processes.ProcessRegistry.NowTicks;
                    _ancestors.Add(_status);
                    _status = own;
                }
                return _status;
            }
        }

        private static bool Alive(int pid)
        {
            for (int i = 0; i < 64; i++)
                if (Info.SliceOwner(i) == (ulong)pid) return true;
            return false;
        }

        public int CurrentPid => Status.Pid;

        public void ListPids(List<int> pids)
        {
            int self = Status.Pid;
            ProcessList list = Processes.ProcessRegistry.List;
            if (list != null)
            {
                list.ListPids(pids);
                if (!pids.Contains(self)) pids.Add(self);
                pids.Sort();
                return;
            }
            foreach (ProcessStatus ancestor in _ancestors)
                if (ancestor.Pid != self && Alive(ancestor.Pid) && !pids.Contains(ancestor.Pid)) pids.Add(ancestor.Pid);
            pids.Add(self);
            pids.Sort();
        }

        /// <summary>This process's memory as /proc/self/stat and status show it: vsize the program's
        /// areas (the stack from its lowest filled page, as Linux's grown stack VMA, not the whole
        /// RLIMIT_STACK reserved), rss the pages the libOS mapped for the program, startcode and
        /// endcode the executable image areas' bounds.</summary>
        private static void MeasureMemory(ProcessStatus status)
        {
            ProgramMemory memory = LinuxProcess.Memory;
            if (memory == null) return;
            ulong size = 0, codeStart = 0, codeEnd = 0;
            for (int i = 0; i < memory.Count; i++)
            {
                Area area = memory[i];
                if (area.Kind == AreaKind.LibOS) continue;
                if (area.Kind == AreaKind.Stack) size += area.End - ProgramPages.FirstFilled(area.Start, area.End);
                else size += area.Length;
                if (area.Kind == AreaKind.Image && (area.Protection & Protection.Execute) != 0)
                {
                    if (codeStart == 0 || area.Start < codeStart) codeStart = area.Start;
                    if (area.End > codeEnd) codeEnd = area.End;
                }
            }
            status.VirtualBytes = (long)size;
            status.ResidentPages = ProgramPages.Count;
            status.StartCode = codeStart;
            status.EndCode = codeEnd;
        }

        public ProcessStatus Find(int pid)
        {
            if (pid == Status.Pid)
            {
                _status.ProcessGroup = (int)Processes.LinuxProcesses.Group;
                _status.Session = (int)Processes.LinuxProcesses.Session;
                _status.ParentPid = (int)ProcessCalls.ParentPid;
                _status.MeasureMemory ??= MeasureMemory;
                return _status;
            }
            ProcessList list = Processes.ProcessRegistry.List;
            if (list != null) return list.Find(pid);
            foreach (ProcessStatus ancestor in _ancestors)
                if (ancestor.Pid == pid && Alive(pid)) return ancestor;
            return null;
        }
    }

    /// <summary>The file server's disk, for a process whose / is the server's (/proc/diskstats, drop_caches).</summary>
    internal sealed class ServerDisk : IDiskSource
    {
        public bool Statistics(out DiskStatistics statistics)
        {
            statistics = default;
            return FileCalls.Remote != null && FileCalls.Remote.DiskStatistics(out statistics);
        }

        public long DropCaches() => FileCalls.Remote == null ? 0 : FileCalls.Remote.DropCaches();
    }
}
