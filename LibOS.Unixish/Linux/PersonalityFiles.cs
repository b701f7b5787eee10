// Joins the file layer (Linux/Files) to the rest of the personality: the loader and file-backed
// mmap read files through it (ProgramFiles), execve closes the close-on-exec descriptors, file
// times are wall-clock times, and /proc/self/maps lists the program's areas (ProgramMemory)
// as Linux does: address range, rwxp/s, offset, 00:00 0, and the area's name. The libOS's own
// image is not the program's: it is not listed. tmpfs file contents take at most half of the
// free memory (RegularFile.MemoryBudget).
using System.Collections.Generic;
using Aegis.LibOS.Unixish.Linux.Files;

namespace Aegis.LibOS.Unixish.Linux
{
    internal static unsafe class PersonalityFiles
    {
        /// <summary>Builds the VFS, installs the file calls and every hook (once, from Install).</summary>
        public static void Install()
        {
            FileCalls.Sources.Clock = () => (long)TimeCalls.RealtimeNanoseconds();
            FileCalls.Sources.Maps = new ProgramMaps();
            RegularFile.MemoryBudget = () => (long)(Info.GlobalPage->FreeFrames / 2 * 4096);
            FileCalls.Register();
            ProgramFiles.SetSource(&FileCalls.ProgramBytes);
            ProgramFiles.SetDescriptorSource(&FileCalls.DescriptorBytes);
            ProgramFiles.SetDescriptorNameSource(&FileCalls.DescriptorName);
            LinuxPersonality.OnExec(&FileCalls.CloseOnExec);
            Processes.LinuxProcesses.OnExit(&FileCalls.Goodbye);
            Net.LocalNet.Install(); // connections a process runs itself (docs/libos-unixish.md)
            Processes.LinuxProcesses.OnFork(&Net.LocalNet.ResetForChild);
        }

        /// <summary>What /proc shows of the program (comm, cmdline, exe), at start and at each execve;
        /// path is the program file's own path (links followed).</summary>
        public static void OnProgramLoaded(LoadRequest request, string path)
        {
            ProcessStatus status = FileCalls.CurrentProcess;
            if (status == null) return;
            status.ExecutablePath = path;
            var arguments = new string[request.Arguments.Count];
            for (int i = 0; i < arguments.Length; i++) arguments[i] = Loader.Utf8String(request.Arguments[i]);
            status.Arguments = arguments;
            // comm is the name execve was given (sh for /bin/sh), exe the file itself (as Linux).
            string given = Loader.Utf8String(request.Path);
            int slash = given.LastIndexOf('/');
            string name = slash >= 0 ? given.Substring(slash + 1) : given;
            status.Name = name.Length > 15 ? name.Substring(0, 15) : name;
            Processes.ProcessRegistry.Program(status.Name, status.Arguments);
        }

        private sealed class ProgramMaps : IMemoryMapSource
        {
            public void GetMappings(List<MemoryMapping> mappings)
            {
                ProgramMemory memory = LinuxProcess.Memory;
                if (memory == null) return;
                for (int i = 0; i < memory.Count; i++)
                {
                    Area area = memory[i];
                    if (area.Kind == AreaKind.LibOS) continue;
                    mappings.Add(new MemoryMapping
                    {
                        Start = area.Start,
                        End = area.End,
                        Offset = area.FileOffset,
                        Readable = (area.Protection & Protection.Read) != 0,
                        Writable = (area.Protection & Protection.Write) != 0,
                        Executable = (area.Protection & Protection.Execute) != 0,
                        Shared = area.Shared,
                        Path = area.Name,
                    });
                }
            }
        }
    }
}
