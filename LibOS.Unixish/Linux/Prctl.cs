// prctl(2) for the Linux personality: the options a static program or busybox uses, as Linux
// answers them; every other option is -EINVAL, as Linux answers an option it does not know.
//   PR_SET_NAME / PR_GET_NAME   the process's name (comm): at most 15 bytes, shown by
//                               /proc/self/comm, /proc/PID/stat and status (ProcessStatus.Name);
//                               execve sets it to the program's file name again
//   PR_SET_DUMPABLE / PR_GET_DUMPABLE   0 or 1 (2, "root-only", is refused as Linux refuses it
//                               from prctl); execve sets it back to 1
//   PR_SET_PDEATHSIG / PR_GET_PDEATHSIG the signal to get when the parent ends (0..64); a fork's
//                               child starts with 0, as Linux. Posted when the parent's exit
//                               tells this process it is an orphan (LinuxProcesses.WhenOrphaned)
// Bad pointers are -EFAULT. State is per process (a fork copies it, then the hooks adjust it).
using Aegis.LibOS.Unixish.Linux.Files;

namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class Prctl
    {
        public const int PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4,
            PR_SET_NAME = 15, PR_GET_NAME = 16;

        /// <summary>TASK_COMM_LEN: the name's buffer, NUL included.</summary>
        public const int NameBytes = 16;

        private static int s_dumpable = 1, s_parentDeathSignal;

        public static void Register()
        {
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.prctl, &Call);
            LinuxPersonality.OnExec(&AfterExec);
            Processes.LinuxProcesses.OnFork(&InForkChild);
            Processes.LinuxProcesses.WhenOrphaned = &ParentDied;
        }

        private static void ParentDied(ulong parent)
        {
            if (s_parentDeathSignal != 0) Processes.ProcessSignals.Post(s_parentDeathSignal, parent);
        }

        private static void AfterExec() => s_dumpable = 1;

        private static void InForkChild() => s_parentDeathSignal = 0;

        public static long Call(ref LinuxCall call)
        {
            switch ((int)call.A0)
            {
                case PR_SET_NAME: return SetName(call.A1);
                case PR_GET_NAME: return GetName(call.A1);
                case PR_GET_DUMPABLE: return s_dumpable;
                case PR_SET_DUMPABLE:
                    if (call.A1 > 1) return -Errno.EINVAL;
                    s_dumpable = (int)call.A1;
                    return 0;
                case PR_SET_PDEATHSIG:
                    if (call.A1 > Sig.Count) return -Errno.EINVAL;
                    s_parentDeathSignal = (int)call.A1;
                    return 0;
                case PR_GET_PDEATHSIG:
                {
                    int value = s_parentDeathSignal;
                    return UserPointers.CopyOut(call.A1, &value, 4) ? 0 : -Errno.EFAULT;
                }
                default:
                    return -Errno.EINVAL;
            }
        }

        /// <summary>Copies at most 15 bytes up to a NUL (as Linux's strncpy_from_user of the comm).</summary>
        private static long SetName(ulong address)
        {
            byte* bytes = stackalloc byte[NameBytes];
            int length = 0;
            for (; length < NameBytes - 1; length++)
            {
                ulong at = address + (ulong)length;
                if (at < address || !UserPointers.IsAccessible(at, 1, false)) return -Errno.EFAULT;
                byte b = *(byte*)at;
                if (b == 0) break;
                bytes[length] = b;
            }
            var name = new char[length];
            for (int i = 0; i < length; i++) name[i] = (char)bytes[i];
            ProcessStatus status = FileCalls.CurrentProcess;
            if (status != null)
            {
                status.Name = new string(name);
                Processes.ProcessRegistry.Program(status.Name, status.Arguments);
            }
            return 0;
        }

        private static long GetName(ulong address)
        {
            byte* bytes = stackalloc byte[NameBytes];
            for (int i = 0; i < NameBytes; i++) bytes[i] = 0;
            string name = FileCalls.CurrentProcess?.Name ?? "";
            for (int i = 0; i < name.Length && i < NameBytes - 1; i++) bytes[i] = name[i] < 256 ? (byte)name[i] : (byte)'?';
            return UserPointers.CopyOut(address, bytes, NameBytes) ? 0 : -Errno.EFAULT;
        }
    }
}
