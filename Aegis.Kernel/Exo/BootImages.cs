// The app images GRUB loaded as multiboot2 modules named "app NAME", and the loader that
// turns one into a stopped environment. Loading checks the whole image first (ElfImage): a
// module that is not a valid app is reported by name and never runs.
using System;
using System.Collections.Generic;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class BootImages
    {
        private const ulong PageSize = 4096;
        private static readonly List<string> s_names = new List<string>();
        private static readonly List<ulong> s_starts = new List<ulong>();
        private static readonly List<ulong> s_lengths = new List<ulong>();

        public static int Count => s_names.Count;
        public static string NameAt(int index) => s_names[index];

        public static void Register(Multiboot2Info boot)
        {
            ReadOnlyListView<BootModule> modules = boot.Modules;
            for (int i = 0; i < modules.Count; i++)
            {
                BootModule module = modules[i];
                string line = module.CommandLine ?? "";
                if (!line.StartsWith("app "))
                    continue;
                s_names.Add(line.Substring(4).Trim());
                s_starts.Add(module.Start);
                s_lengths.Add(module.Length);
            }
        }

        public static bool Exists(string name) => s_names.IndexOf(name) >= 0;

        /// <summary>Creates a stopped environment running the named image: segments mapped (frames
        /// owned by it), a stack below InitialStackTop, the argument in its environment page.</summary>
        public static Error Spawn(ulong parentId, string name, string argument, out Environment environment, out string problem)
        {
            environment = null;
            problem = null;
            int index = s_names.IndexOf(name);
            if (index < 0)
            {
                problem = "no boot image named '" + name + "'";
                return Error.NoSuchImage;
            }
            ReadOnlySpan<byte> file = new ReadOnlySpan<byte>(KernelMemory.PhysicalToVirtual(s_starts[index]), (int)s_lengths[index]);
            if (!ElfImage.TryParse(file, out ElfImage image, out string error))
            {
                problem = "boot image '" + name + "' is not a valid app: " + error;
                return Error.InvalidArgument;
            }
            Error result = Environments.Create(parentId, name, out Environment created);
            if (result != Error.None)
            {
                problem = "no room for another environment";
                return result;
            }
            result = LoadSegments(created, image, file);
            if (result == Error.None)
                result = CreateStack(created);
            if (result != Error.None)
            {
                problem = "out of memory while loading '" + name + "'";
                Environments.Destroy(created, EnvironmentState.Destroyed, DestroyReason.BadImage, 0, null);
                return result;
            }
            created.Frame->Rip = image.Entry;
            created.Frame->Rsp = UserAddresses.InitialStackTop;
            SetArgument(created, argument ?? "");
            environment = created;
            return Error.None;
        }

        private static Error LoadSegments(Environment environment, ElfImage image, ReadOnlySpan<byte> file)
        {
            for (int s = 0; s < image.Segments.Count; s++)
            {
                ElfSegment segment = image.Segments[s];
                ulong first = segment.VirtualAddress & ~(PageSize - 1);
                ulong end = (segment.VirtualAddress + segment.MemorySize + PageSize - 1) & ~(PageSize - 1);
                for (ulong page = first; page < end; page += PageSize)
                {
                    // A page two segments share gets the union of their permissions (ElfImage.PagePermissions).
                    image.PagePermissions(page, out bool writable, out bool executable);
                    PageFlags flags = PageFlags.Present | PageFlags.User;
                    if (writable) flags |= PageFlags.Writable;
                    if (!executable) flags |= PageFlags.NoExecute;
                    ulong frame;
                    if (environment.Tables.TryTranslate(page, out ulong existing, out _))
                    {
                        // Two segments sharing a page: one frame, already mapped with the union.
                        frame = existing / PageSize;
                    }
                    else
                    {
                        Error error = Environments.AllocateFrame(environment, SystemCallLimits.AnyFrame, out frame);
                        if (error != Error.None) return error;
                        error = Environments.Map(environment, page, frame, flags);
                        if (error != Error.None) return error;
                    }
                    // Copy the part of the file that falls in this page.
                    ulong copyStart = Math.Max(page, segment.VirtualAddress);
                    ulong copyEnd = Math.Min(page + PageSize, segment.VirtualAddress + segment.FileSize);
                    if (copyEnd > copyStart)
                    {
                        int offset = (int)(segment.FileOffset + (copyStart - segment.VirtualAddress));
                        byte* destination = (byte*)KernelMemory.PhysicalToVirtual(frame * PageSize + (copyStart - page));
                        file.Slice(offset, (int)(copyEnd - copyStart)).CopyTo(new Span<byte>(destination, (int)(copyEnd - copyStart)));
                    }
                }
            }
            return Error.None;
        }

        private static Error CreateStack(Environment environment)
        {
            PageFlags flags = PageFlags.Present | PageFlags.User | PageFlags.Writable | PageFlags.NoExecute;
            for (int i = 1; i <= UserAddresses.InitialStackPages; i++)
            {
                Error error = Environments.AllocateFrame(environment, SystemCallLimits.AnyFrame, out ulong frame);
                if (error != Error.None) return error;
                error = Environments.Map(environment, UserAddresses.InitialStackTop - (ulong)i * PageSize, frame, flags);
                if (error != Error.None) return error;
            }
            return Error.None;
        }

        private static void SetArgument(Environment environment, string argument)
        {
            int length = argument.Length < 255 ? argument.Length : 255;
            for (int i = 0; i < length; i++)
                environment.Page->Argument[i] = (byte)argument[i];
            environment.Page->ArgumentLength = (ulong)length;
        }
    }
}
