// The tree's process list (Files/ProcessList.cs) in pages every process maps at the same address:
// the first program allocates them (it owns the frames; the whole tree ends with it) and
// LinuxFork shares them writable with every child (ShareRange), as a shared pipe's pages. Each
// process keeps its own entry current; /proc (CurrentProcessTable) lists and reads the others'.
//   first program  Create: the pages, its entry (LinuxProcesses.Initialize)
//   fork (child)   AfterFork: an entry of its own, a copy of its parent's (the fork hook: no allocation)
//   exec, prctl    Program: comm and arguments (PersonalityFiles.OnProgramLoaded, Prctl)
//   setpgid/setsid Group; orphaned: Parent(1); stopped 'T', continued 'S'
//   exit           Ended: 'Z' until the parent reaps it (Reaped frees the entry), or freed at once
//                  for a process nobody reaps (the first program); its own unreaped children's
//                  entries go with it
// Limits: Capacity entries for the tree (a process that finds none is simply not listed); a process
// the kernel destroyed without its exit stays listed until its parent reaps it, as a zombie would.
using Aegis.Abi;
using Aegis.LibOS.Unixish.Linux.Files;

namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public static unsafe class ProcessRegistry
    {
        public const int Capacity = 128;
        private const int Pages = Capacity * ProcessList.EntryBytes / 4096;

        /// <summary>The shared list (null: none could be made; /proc then shows this process only).</summary>
        public static ProcessList List;
        private static int s_own = -1;

        /// <summary>Clock ticks since boot (USER_HZ 100): /proc's start times.</summary>
        public static long NowTicks => (long)(Info.Ticks / 10);

        /// <summary>The first program: the shared pages and its own entry (once).</summary>
        public static void Create()
        {
            if (List != null) return;
            ulong address = AddressSpace.Reserve(Pages);
            if (address == 0) return;
            if (Memory.AllocateAndMap(address, Pages, Memory.ReadWrite) != Error.None)
            {
                AddressSpace.Release(address, Pages);
                LinuxLog.Line("no memory for the process list: ps shows each process alone");
                return;
            }
            List = new ProcessList((byte*)address, Capacity);
            LinuxFork.ShareRange(address, Pages);
            s_own = List.Claim(Info.EnvironmentId, Info.ParentId, NowTicks);
            Group((int)LinuxProcesses.Group, (int)LinuxProcesses.Session);
        }

        /// <summary>A fork's child: an entry of its own showing what its parent's shows (runs in the
        /// fork hook: allocates nothing).</summary>
        internal static void AfterFork()
        {
            if (List == null) return;
            s_own = List.ClaimCopy(s_own, Info.EnvironmentId, Info.ParentId, NowTicks);
        }

        /// <summary>This process's entry index (-1: none).</summary>
        public static int Own => s_own;

        public static void Program(string name, string[] arguments) => List?.SetProgram(s_own, name, arguments);
        public static void Group(int group, int session) => List?.SetGroup(s_own, group, session);
        public static void Parent(ulong parent) => List?.SetParent(s_own, parent);
        public static void State(char state) => List?.SetState(s_own, state);

        /// <summary>This process's Linux life ended: 'Z' for its parent to reap, or gone when nobody
        /// will (reaped false). (Its children it never reaped go first: LinuxProcesses.Exit calls
        /// Reaped for each.)</summary>
        public static void Ended(bool reaped)
        {
            if (List == null) return;
            if (reaped) List.SetState(s_own, 'Z');
            else List.Free(Info.EnvironmentId);
        }

        /// <summary>The parent reaped child (wait), or forgot it: its entry goes.</summary>
        public static void Reaped(ulong child) => List?.Free(child);
    }
}
