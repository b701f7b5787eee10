// The program's identity, its end, execve and the small calls every libc makes at start-up.
//   pid/tid     the environment id (one thread per program); getppid: EnvironmentPage.ParentId,
//               0 for a program the kernel started (as for Linux's pid 1), 1 once the parent
//               exited while this process runs (an orphan: LinuxProcesses' OrphanTag).
//   users       one user, root: every uid/gid is 0, getgroups is [0]; set*id to 0 succeeds,
//               to anything else -EPERM (there is nobody else to become).
//   uname       Linux 6.1.0-aegis x86_64, nodename "aegis".
//   arch_prctl  ARCH_SET_FS/GET_FS act on the program's FS base (what the trampoline restores);
//               ARCH_SET_GS/GET_GS need FSGSBASE (the libOS never uses GS); GET_CPUID is 1.
//   rlimits     a per-program table with Linux's defaults; setting above the hard limit is
//               -EINVAL, raising the hard limit is allowed (root); only this process (pid 0 or ours).
//   rseq        -ENOSYS without a log line: glibc probes it at every start and works without it.
//   reboot      RB_POWER_OFF / RB_HALT_SYSTEM end every process of the tree, the first program
//               with status 0 (LinuxProcesses.PowerOff): the kernel ends the machine when init
//               ends with the `exit` flag; restarting is -EPERM.
using Aegis.Abi;
using static Aegis.LibOS.Unixish.Linux.LinuxSystemCallNumbers;

namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class ProcessCalls
    {
        public static void Register()
        {
            LinuxSystemCalls.Define(exit, &Exit);
            LinuxSystemCalls.Define(exit_group, &Exit);
            LinuxSystemCalls.Define(getpid, &GetPid);
            LinuxSystemCalls.Define(gettid, &GetTid);
            LinuxSystemCalls.Define(futex, &Processes.LinuxThreads.Futex);
            LinuxSystemCalls.Define(membarrier, &Membarrier);
            LinuxSystemCalls.Define(getppid, &GetParentPid);
            s_parentPid = (long)Info.OwnPage->ParentId;
            Processes.LinuxProcesses.OnFork(&AfterFork);
            LinuxSystemCalls.Define(getuid, &Zero);
            LinuxSystemCalls.Define(geteuid, &Zero);
            LinuxSystemCalls.Define(getgid, &Zero);
            LinuxSystemCalls.Define(getegid, &Zero);
            LinuxSystemCalls.Define(getgroups, &GetGroups);
            LinuxSystemCalls.Define(setuid, &SetOneId);
            LinuxSystemCalls.Define(setgid, &SetOneId);
            LinuxSystemCalls.Define(setfsuid, &SetFsId);
            LinuxSystemCalls.Define(setfsgid, &SetFsId);
            LinuxSystemCalls.Define(setreuid, &SetIds);
            LinuxSystemCalls.Define(setregid, &SetIds);
            LinuxSystemCalls.Define(setresuid, &SetIds);
            LinuxSystemCalls.Define(setresgid, &SetIds);
            LinuxSystemCalls.Define(getresuid, &GetResIds);
            LinuxSystemCalls.Define(getresgid, &GetResIds);
            LinuxSystemCalls.Define(setgroups, &SetGroups);
            LinuxSystemCalls.Define(uname, &Uname);
            LinuxSystemCalls.Define(arch_prctl, &ArchPrctl);
            LinuxSystemCalls.Define(set_tid_address, &SetTidAddress);
            LinuxSystemCalls.Define(set_robust_list, &SetRobustList);
            LinuxSystemCalls.Define(rseq, &Rseq);
            LinuxSystemCalls.Define(prlimit64, &Prlimit);
            LinuxSystemCalls.Define(getrlimit, &GetRlimit);
            LinuxSystemCalls.Define(setrlimit, &SetRlimit);
            LinuxSystemCalls.Define(sysinfo, &SysInfo);
            LinuxSystemCalls.Define(getrandom, &GetRandom);
            LinuxSystemCalls.Define(reboot, &Reboot);
            LinuxSystemCalls.Define(sched_yield, &SchedYield);
            LinuxSystemCalls.Define(sched_getaffinity, &SchedGetAffinity);
            LinuxSystemCalls.Define(sched_setaffinity, &SchedSetAffinity);
            LinuxSystemCalls.Define(getcpu, &GetCpu);
            LinuxSystemCalls.Define(execve, &Execve);
        }

        // ---- identity -------------------------------------------------------------------------

        public static long Exit(ref LinuxCall call)
        {
            LinuxPersonality.ExitProgram((int)(call.A0 & 0xFF));
            return 0;
        }

        public static long GetPid(ref LinuxCall call) => (long)Info.OwnPage->Id;

        /// <summary>membarrier(cmd, flags, cpu): a process's threads all run on the one CPU of its
        /// environment, one at a time, switched only by the libOS (Processes/LinuxThreads.cs), so every
        /// barrier asked for already holds when the call is made: QUERY lists GLOBAL, PRIVATE_EXPEDITED
        /// and its REGISTER (what .NET's FlushProcessWriteBuffers uses), each of which returns 0.</summary>
        public static long Membarrier(ref LinuxCall call)
        {
            const int Query = 0, Global = 1, PrivateExpedited = 8, RegisterPrivateExpedited = 16;
            int command = (int)call.A0;
            if (call.A1 != 0) return -Errno.EINVAL;
            if (command == Query) return Global | PrivateExpedited | RegisterPrivateExpedited;
            return command == Global || command == PrivateExpedited || command == RegisterPrivateExpedited ? 0 : -Errno.EINVAL;
        }

        /// <summary>The running thread's tid (Processes/LinuxThreads.cs): the pid for the first thread.</summary>
        public static long GetTid(ref LinuxCall call) => Processes.LinuxThreads.CurrentTid;

        /// <summary>getppid's answer (a static: one load on getppid's fast path): the environment's
        /// parent, set at start and in a fork's child; 1 once the parent exited (BecomeOrphan).</summary>
        private static long s_parentPid;

        public static long GetParentPid(ref LinuxCall call) => s_parentPid;

        /// <summary>What getppid answers (for /proc).</summary>
        public static long ParentPid => s_parentPid;

        private static void AfterFork() => s_parentPid = (long)Info.OwnPage->ParentId;

        /// <summary>The Linux parent exited while this process runs (LinuxProcesses' OrphanTag):
        /// getppid answers 1, as after Linux's reparenting to init.</summary>
        internal static void BecomeOrphan() => s_parentPid = 1;

        public static long Zero(ref LinuxCall call) => 0;

        public static long GetGroups(ref LinuxCall call)
        {
            int size = (int)call.A0;
            if (size < 0) return -Errno.EINVAL;
            if (size == 0) return 1;
            uint root = 0;
            return UserPointers.CopyOut(call.A1, &root, 4) ? 1 : -Errno.EFAULT;
        }

        public static long SetOneId(ref LinuxCall call) => (uint)call.A0 == 0 ? 0 : -Errno.EPERM;

        /// <summary>setfsuid/setfsgid return the previous value (0) whatever happens.</summary>
        public static long SetFsId(ref LinuxCall call) => 0;

        /// <summary>setre*id/setres*id: each id -1 (unchanged) or 0.</summary>
        public static long SetIds(ref LinuxCall call)
        {
            ulong count = call.Number == setreuid || call.Number == setregid ? 2UL : 3UL;
            for (ulong i = 0; i < count; i++)
            {
                uint id = (uint)(i == 0 ? call.A0 : i == 1 ? call.A1 : call.A2);
                if (id != 0 && id != uint.MaxValue) return -Errno.EPERM;
            }
            return 0;
        }

        public static long GetResIds(ref LinuxCall call)
        {
            uint zero = 0;
            if (!UserPointers.CopyOut(call.A0, &zero, 4) || !UserPointers.CopyOut(call.A1, &zero, 4) || !UserPointers.CopyOut(call.A2, &zero, 4))
                return -Errno.EFAULT;
            return 0;
        }

        public static long SetGroups(ref LinuxCall call)
        {
            ulong count = call.A0;
            if (count > 65536) return -Errno.EINVAL;
            for (ulong i = 0; i < count; i++)
            {
                uint group;
                if (!UserPointers.CopyIn(&group, call.A1 + 4 * i, 4)) return -Errno.EFAULT;
                if (group != 0) return -Errno.EPERM;
            }
            return 0;
        }

        // ---- uname ----------------------------------------------------------------------------

        public const string SystemName = "Linux", NodeName = "aegis", Release = "6.1.0-aegis", Machine = "x86_64";
        public const string Version = "#1 SMP Aegis exokernel, Linux personality in LibOS.Unixish";

        public static long Uname(ref LinuxCall call)
        {
            const int Field = 65;
            byte* name = stackalloc byte[Field * 6];
            for (int i = 0; i < Field * 6; i++) name[i] = 0;
            Put(name, SystemName);
            Put(name + Field, NodeName);
            Put(name + 2 * Field, Release);
            Put(name + 3 * Field, Version);
            Put(name + 4 * Field, Machine);
            Put(name + 5 * Field, "(none)");
            return UserPointers.CopyOut(call.A0, name, Field * 6) ? 0 : -Errno.EFAULT;
        }

        private static void Put(byte* into, string text)
        {
            for (int i = 0; i < text.Length && i < 64; i++) into[i] = (byte)text[i];
        }

        // ---- arch_prctl, thread bookkeeping ----------------------------------------------------

        public const int ArchSetGs = 0x1001, ArchSetFs = 0x1002, ArchGetFs = 0x1003, ArchGetGs = 0x1004,
            ArchGetCpuid = 0x1011, ArchSetCpuid = 0x1012;

        public static long ArchPrctl(ref LinuxCall call)
        {
            ulong value;
            switch ((int)call.A0)
            {
                case ArchSetFs:
                    if (call.A1 >= UserAddresses.UserEnd) return -Errno.EPERM;
                    call.ProgramFsBase = call.A1;
                    return 0;
                case ArchGetFs:
                    value = call.ProgramFsBase;
                    return UserPointers.CopyOut(call.A1, &value, 8) ? 0 : -Errno.EFAULT;
                case ArchSetGs:
                    if (call.A1 >= UserAddresses.UserEnd) return -Errno.EPERM;
                    if (!LinuxCpu.HasFsGsBase) return -Errno.EOPNOTSUPP;
                    LinuxNative.WriteGsBase(call.A1);
                    return 0;
                case ArchGetGs:
                    value = LinuxCpu.HasFsGsBase ? LinuxNative.ReadGsBase() : 0;
                    return UserPointers.CopyOut(call.A1, &value, 8) ? 0 : -Errno.EFAULT;
                case ArchGetCpuid:
                    return 1;
                case ArchSetCpuid:
                    return -Errno.ENODEV;
                default:
                    return -Errno.EINVAL;
            }
        }

        public static long SetTidAddress(ref LinuxCall call)
        {
            Processes.LinuxThreads.SetClearChildTid(call.A0);
            return Processes.LinuxThreads.CurrentTid;
        }

        /// <summary>struct robust_list_head is 24 bytes; any other length is -EINVAL.</summary>
        public static long SetRobustList(ref LinuxCall call)
        {
            if (call.A1 != 24) return -Errno.EINVAL;
            LinuxProcess.RobustList = call.A0;
            return 0;
        }

        public static long Rseq(ref LinuxCall call) => -Errno.ENOSYS;

        // ---- resource limits -------------------------------------------------------------------

        public const int ResourceCount = 16;
        public const ulong Infinity = ulong.MaxValue;
        private static ulong[] s_limits;

        private static ulong[] Limits
        {
            get
            {
                if (s_limits == null)
                {
                    s_limits = new ulong[ResourceCount * 2];
                    for (int i = 0; i < ResourceCount * 2; i++) s_limits[i] = Infinity;
                    SetDefault(3, ProgramMemory.StackLimit, Infinity);  // RLIMIT_STACK
                    SetDefault(4, 0, Infinity);                          // RLIMIT_CORE
                    SetDefault(6, 4096, 4096);                           // RLIMIT_NPROC
                    SetDefault(7, 1024, 4096);                           // RLIMIT_NOFILE
                    SetDefault(8, 8UL << 20, 8UL << 20);                 // RLIMIT_MEMLOCK
                    SetDefault(11, 4096, 4096);                          // RLIMIT_SIGPENDING
                    SetDefault(12, 819200, 819200);                      // RLIMIT_MSGQUEUE
                    SetDefault(13, 0, 0);                                // RLIMIT_NICE
                    SetDefault(14, 0, 0);                                // RLIMIT_RTPRIO
                }
                return s_limits;
            }
        }

        private static void SetDefault(int resource, ulong soft, ulong hard)
        {
            s_limits[resource * 2] = soft;
            s_limits[resource * 2 + 1] = hard;
        }

        /// <summary>The soft limit of a resource (RLIMIT_NOFILE for the file table, for one).</summary>
        public static ulong SoftLimit(int resource) => Limits[resource * 2];

        public static long Prlimit(ref LinuxCall call)
        {
            ulong pid = call.A0;
            if (pid != 0 && pid != LinuxProcess.Id) return -Errno.ESRCH;
            return Limit((int)call.A1, call.A2, call.A3);
        }

        // getrlimit/setrlimit have no optional pointer (prlimit64's are): NULL is EFAULT, as on
        // Linux (found by the fuzzer: getrlimit(r, NULL) answered 0).
        public static long GetRlimit(ref LinuxCall call)
            => (uint)call.A0 >= ResourceCount ? -Errno.EINVAL : call.A1 == 0 ? -Errno.EFAULT : Limit((int)call.A0, 0, call.A1);

        public static long SetRlimit(ref LinuxCall call)
            => (uint)call.A0 >= ResourceCount ? -Errno.EINVAL : call.A1 == 0 ? -Errno.EFAULT : Limit((int)call.A0, call.A1, 0);

        private static long Limit(int resource, ulong newAddress, ulong oldAddress)
        {
            if ((uint)resource >= ResourceCount) return -Errno.EINVAL;
            ulong* limit = stackalloc ulong[2];
            if (newAddress != 0)
            {
                if (!UserPointers.CopyIn(limit, newAddress, 16)) return -Errno.EFAULT;
                if (limit[0] > limit[1]) return -Errno.EINVAL;
            }
            ulong* old = stackalloc ulong[2];
            old[0] = Limits[resource * 2];
            old[1] = Limits[resource * 2 + 1];
            if (oldAddress != 0 && !UserPointers.CopyOut(oldAddress, old, 16)) return -Errno.EFAULT;
            if (newAddress != 0)
            {
                Limits[resource * 2] = limit[0];
                Limits[resource * 2 + 1] = limit[1];
            }
            return 0;
        }

        // ---- sysinfo, getrandom ----------------------------------------------------------------

        /// <summary>struct sysinfo (112 bytes) from the information page: uptime from the tick
        /// count, memory from the frame counts (mem_unit = 4096), procs = the environments that hold
        /// a time slice (at least 1), no swap, loads 0 (the kernel keeps no load average).</summary>
        public static long SysInfo(ref LinuxCall call)
        {
            byte* info = stackalloc byte[112];
            for (int i = 0; i < 112; i++) info[i] = 0;
            InfoPage* page = Info.GlobalPage;
            *(long*)info = (long)(page->Ticks / 1000);
            *(ulong*)(info + 32) = page->TotalFrames;
            *(ulong*)(info + 40) = page->FreeFrames;
            *(ushort*)(info + 80) = (ushort)RunningEnvironments();
            *(uint*)(info + 104) = 4096;
            return UserPointers.CopyOut(call.A0, info, 112) ? 0 : -Errno.EFAULT;
        }

        private static int RunningEnvironments()
        {
            InfoPage* page = Info.GlobalPage;
            ulong* seen = stackalloc ulong[64];
            int count = 0;
            for (int i = 0; i < 64; i++)
            {
                ulong owner = Info.SliceOwner(i);
                if (owner == 0) continue;
                bool known = false;
                for (int j = 0; j < count; j++) if (seen[j] == owner) known = true;
                if (!known) seen[count++] = owner;
            }
            return count == 0 ? 1 : count;
        }

        public const int GrndNonBlock = 1, GrndRandom = 2, GrndInsecure = 4;

        /// <summary>getrandom: RDRAND/RDSEED bytes (LinuxCpu.Random64), at most 32 MiB - 1 per call, never blocks.</summary>
        public static long GetRandom(ref LinuxCall call)
        {
            if ((call.A2 & ~(ulong)(GrndNonBlock | GrndRandom | GrndInsecure)) != 0) return -Errno.EINVAL;
            if ((call.A2 & (GrndRandom | GrndInsecure)) == (GrndRandom | GrndInsecure)) return -Errno.EINVAL;
            ulong length = call.A1 < 33554431 ? call.A1 : 33554431;
            if (!UserPointers.IsAccessible(call.A0, length, true)) return -Errno.EFAULT;
            byte* chunk = stackalloc byte[256];
            for (ulong done = 0; done < length; done += 256)
            {
                ulong bytes = length - done < 256 ? length - done : 256;
                LinuxCpu.RandomBytes(chunk, bytes);
                if (!UserPointers.CopyOut(call.A0 + done, chunk, bytes)) return done == 0 ? -Errno.EFAULT : (long)done;
            }
            return (long)length;
        }

        // ---- reboot, scheduling ----------------------------------------------------------------

        public const uint RebootMagic1 = 0xFEE1DEAD;
        public const uint RebootPowerOff = 0x4321FEDC, RebootHalt = 0xCDEF0123, RebootRestart = 0x01234567,
            RebootCadOn = 0x89ABCDEF, RebootCadOff = 0;

        public static long Reboot(ref LinuxCall call)
        {
            uint magic2 = (uint)call.A1;
            if ((uint)call.A0 != RebootMagic1 || (magic2 != 672274793 && magic2 != 85072278 && magic2 != 369367448 && magic2 != 537993216))
                return -Errno.EINVAL;
            switch ((uint)call.A2)
            {
                case RebootPowerOff:
                case RebootHalt:
                    return Processes.LinuxProcesses.PowerOff("reboot from " + LinuxSignals.ProgramName());
                case RebootCadOn:
                case RebootCadOff:
                    return 0;
                case RebootRestart:
                    return -Errno.EPERM;
                default:
                    return -Errno.EINVAL;
            }
        }

        public static long SchedYield(ref LinuxCall call)
        {
            Processes.LinuxThreads.Yield(); // another thread of the process, when one can run
            if (!Processes.LinuxThreads.SwitchPending) SystemCalls.Yield();
            return 0;
        }

        /// <summary>One CPU: the mask is CPU 0; returns the bytes written (8), as the kernel does.</summary>
        public static long SchedGetAffinity(ref LinuxCall call)
        {
            ulong pid = call.A0, length = call.A1;
            if (pid != 0 && pid != LinuxProcess.Id) return -Errno.ESRCH;
            if (length < 8 || (length & 7) != 0) return -Errno.EINVAL;
            ulong mask = 1;
            return UserPointers.CopyOut(call.A2, &mask, 8) ? 8 : -Errno.EFAULT;
        }

        public static long SchedSetAffinity(ref LinuxCall call)
        {
            ulong pid = call.A0;
            if (pid != 0 && pid != LinuxProcess.Id) return -Errno.ESRCH;
            if (call.A1 == 0) return -Errno.EINVAL;
            byte first;
            if (!UserPointers.CopyIn(&first, call.A2, 1)) return -Errno.EFAULT;
            return (first & 1) != 0 ? 0 : -Errno.EINVAL;
        }

        public static long GetCpu(ref LinuxCall call)
        {
            uint zero = 0;
            if (call.A0 != 0 && !UserPointers.CopyOut(call.A0, &zero, 4)) return -Errno.EFAULT;
            if (call.A1 != 0 && !UserPointers.CopyOut(call.A1, &zero, 4)) return -Errno.EFAULT;
            return 0;
        }

        // ---- execve ---------------------------------------------------------------------------

        /// <summary>Longest path, argument or variable string (Linux's PATH_MAX / MAX_ARG_STRLEN).</summary>
        public const int PathMax = 4096, StringMax = 131072, VectorMax = 65536;
        private static byte[] s_stringBuffer;

        public static long Execve(ref LinuxCall call)
        {
            var request = new LoadRequest();
            long error = ReadString(call.A0, PathMax, out request.Path);
            if (error < 0) return error;
            if (request.Path.Length == 0) return -Errno.ENOENT;
            error = ReadVector(call.A1, request.Arguments);
            if (error < 0) return error;
            error = ReadVector(call.A2, request.Environment);
            if (error < 0) return error;
            error = Loader.Prepare(request, out string problem, out _);
            if (error < 0)
            {
                // A shell reports a missing file itself and runs a non-ELF file as a script: no
                // line for those; the rest (dynamic linking, a broken ELF) deserve one.
                bool shellHandles = problem == "no such file" || problem.StartsWith("not an ELF") || problem.StartsWith("is a script");
                if (!shellHandles)
                    LinuxLog.Line("execve " + Loader.Utf8String(request.Path) + ": " + problem);
                return error;
            }
            if (!Loader.Commit(request, call.Registers, out ulong fsBase, out problem))
            {
                LinuxLog.Line("execve " + Loader.Utf8String(request.Path) + ": " + problem + "; the old program is gone");
                LinuxSignals.Terminate(LinuxSignals.SIGKILL);
            }
            call.ProgramFsBase = fsBase;
            ResetFpuState(call.Frame);
            Processes.LinuxThreads.Reset(true); // the other threads are gone (Linux: de_thread)
            Processes.LinuxThreads.Current = Processes.LinuxThreads.PolicyFor(request.Environment);
            LinuxSystemCalls.CountFor(request.Environment);
            return 0;
        }

        /// <summary>The new program starts with the x87/SSE state Linux gives (FCW 0x37F, MXCSR
        /// 0x1F80, registers zero): the trampoline's FXSAVE area, just below the frame, is what it restores.</summary>
        private static void ResetFpuState(UpcallFrame* frame)
        {
            byte* area = (byte*)frame - 512;
            ulong* words = (ulong*)area;
            for (int i = 0; i < 64; i++) words[i] = 0;
            *(ushort*)area = 0x37F;
            *(uint*)(area + 24) = 0x1F80;
            *(uint*)(area + 28) = 0xFFFF; // MXCSR_MASK
        }

        /// <summary>Strings up to this long are read through the stack; longer ones through
        /// s_stringBuffer (128 KiB, made on first need: a forked child that execs a short command
        /// line must not grow its heap by that much for it).</summary>
        private const int ShortString = 1024;

        private static long ReadString(ulong address, int capacity, out byte[] text)
        {
            text = null;
            byte* shortBuffer = stackalloc byte[ShortString];
            long length = UserPointers.ReadString(address, shortBuffer, capacity < ShortString ? capacity : ShortString);
            if (length >= 0)
            {
                text = new byte[length];
                for (int i = 0; i < length; i++) text[i] = shortBuffer[i];
                return length;
            }
            if (length != -Errno.ENAMETOOLONG || capacity <= ShortString) return length;
            if (s_stringBuffer == null) s_stringBuffer = new byte[StringMax + 1];
            fixed (byte* buffer = s_stringBuffer)
                length = UserPointers.ReadString(address, buffer, capacity);
            if (length == -Errno.ENAMETOOLONG && capacity == StringMax) return -Errno.E2BIG;
            if (length < 0) return length;
            text = new byte[length];
            for (int i = 0; i < length; i++) text[i] = s_stringBuffer[i];
            return length;
        }

        private static long ReadVector(ulong address, System.Collections.Generic.List<byte[]> into)
        {
            if (address == 0) return 0; // Linux accepts a NULL argv or envp as empty
            ulong total = 0;
            for (int i = 0; ; i++)
            {
                if (i >= VectorMax) return -Errno.E2BIG;
                ulong pointer;
                if (!UserPointers.CopyIn(&pointer, address + 8UL * (ulong)i, 8)) return -Errno.EFAULT;
                if (pointer == 0) return 0;
                long length = ReadString(pointer, StringMax, out byte[] text);
                if (length < 0) return length;
                total += (ulong)length + 9;
                if (total > Loader.ArgumentBytesLimit) return -Errno.E2BIG;
                into.Add(text);
            }
        }
    }
}
