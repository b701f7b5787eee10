// The Linux personality's start: what the host app `linux` (Apps/Linux) runs with its spawn
// argument "/PATH ARGS...". In order:
//   1. Install: the area table (with the libOS image as an area the program cannot touch) and
//      every area's handlers (MemoryCalls.Register, ProcessCalls.Register, TimeCalls.Register,
//      StandardOutput.Register, then the file layer's, which also installs the ProgramFiles source);
//   2. the argument is split into words (spaces separate, single quotes group) and the program
//      is prepared (Loader.Prepare): a missing or bad file is one line, "linux: /PATH: <why>",
//      and the environment ends with the status a shell gives (127 not found or dynamically
//      linked, 126 not executable);
//   3. Activate: the trampoline's settings, Native/linux.S's entry as the upcall entry, the
//      demand pager in LibOS.Base's page-fault chain, and finally SetSystemCallUpcall: from
//      then on the program's `syscall`s come to LinuxSystemCalls.Dispatch;
//   4. the program is loaded (Loader.Commit) and entered; Main never returns.
using System.Collections.Generic;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class LinuxPersonality
    {
        private static readonly List<nint> s_execHooks = new List<nint>();
        private static bool s_started;

        /// <summary>Runs the program named by argument ("/PATH ARGS..."); returns only with a
        /// shell-like status when it cannot be started.</summary>
        public static int Run(string argument)
        {
            List<string> words = SplitWords(argument);
            if (words.Count == 0 || words[0].Length == 0 || words[0][0] != '/')
            {
                LinuxLog.Line("no program to run: the argument must be \"/PATH ARGS...\" (got \"" + argument + "\")");
                return 127;
            }
            Install();
            var request = new LoadRequest { Path = Loader.Bytes(words[0]) };
            foreach (string word in words) request.Arguments.Add(Loader.Bytes(word));
            foreach (string variable in Loader.DefaultEnvironment) request.Environment.Add(Loader.Bytes(variable));
            if (Loader.Prepare(request, out string problem, out int status) < 0)
            {
                LinuxLog.Line(words[0] + ": " + problem);
                return status;
            }
            string startError = Activate();
            if (startError != null)
            {
                LinuxLog.Line("cannot run " + words[0] + ": " + startError);
                return 126;
            }
            UpcallFrame* state = stackalloc UpcallFrame[1];
            *state = default;
            if (!Loader.Commit(request, &state->Registers, out ulong fsBase, out problem))
            {
                LinuxLog.Line(words[0] + ": " + problem);
                return 126;
            }
            state->Reserved2 = fsBase;
            LinuxNative.Enter(state);
            return 126; // not reached
        }

        /// <summary>The area table and every handler (once; touches nothing of the kernel's).</summary>
        public static void Install()
        {
            if (LinuxProcess.Memory != null) return;
            LinuxUpcalls.Initialize();
            var memory = new ProgramMemory();
            ulong imageStart = LinuxNative.ImageStart(), imageEnd = ProgramMemory.PageUp(LinuxNative.ImageEnd());
            if (ProgramMemory.InWindow(imageStart, imageEnd))
                memory.Insert(new Area { Start = imageStart, End = imageEnd, Kind = AreaKind.LibOS, Name = "[aegis-libos]" });
            LinuxProcess.Memory = memory;
            MemoryCalls.Register();
            ProcessCalls.Register();
            Prctl.Register();
            Processes.LinuxProcesses.Register(); // fork, exit, wait, kill, groups (after ProcessCalls: its exit is replaced)
            TimeCalls.Register();
            Signals.Register();
            StandardOutput.Register();
            PersonalityFiles.Install(); // after StandardOutput: the file layer's write replaces its
        }

        /// <summary>Routes the program's system calls and faults here (once); null, or why it cannot.</summary>
        public static string Activate()
        {
            if (s_started) return null;
            Install();
            LinuxNative.Configure(LinuxNative.ThreadPointer(), LinuxCpu.HasFsGsBase ? 1UL : 0UL, (ulong)SystemCall.SetFsBase);
            PageFaults.Register(ProgramPages.OnLibOSFault);
            ulong entry = LinuxNative.UpcallEntry();
            Error error = SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, entry, AddressSpace.UpcallStackTop);
            if (error != Error.None) return "cannot register the upcall entry: " + Errors.Name(error);
            error = KernelInterface.EnableSystemCallUpcall(entry);
            if (error != Error.None)
            {
                SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, Upcalls.EntryAddress, AddressSpace.UpcallStackTop);
                return "the kernel does not deliver system calls to the libOS (SetSystemCallUpcall: " + Errors.Name(error) + ")";
            }
            s_started = true;
            return null;
        }

        /// <summary>Adds a hook execve runs at its point of no return, before the old program's
        /// memory goes (the file table's close-on-exec, for one).</summary>
        public static void OnExec(delegate*<void> hook) => s_execHooks.Add((nint)hook);

        internal static void RunExecHooks()
        {
            for (int i = 0; i < s_execHooks.Count; i++)
                ((delegate*<void>)s_execHooks[i])();
        }

        /// <summary>Ends the program and its environment with a Linux exit status (0-255).</summary>
        public static void ExitProgram(int status) => Processes.LinuxProcesses.Exit(Processes.WaitStatus.Exited(status));

        /// <summary>"/bin/echo 'a b' c" -> /bin/echo, a b, c.</summary>
        public static List<string> SplitWords(string text)
        {
            var words = new List<string>();
            var current = new System.Text.StringBuilder();
            bool inWord = false, quoted = false;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c == '\'') { quoted = !quoted; inWord = true; continue; }
                if (!quoted && (c == ' ' || c == '\t' || c == '\n'))
                {
                    if (inWord) { words.Add(current.ToString()); current.Clear(); inWord = false; }
                    continue;
                }
                current.Append(c);
                inWord = true;
            }
            if (inWord) words.Add(current.ToString());
            return words;
        }
    }
}
