// The app images GRUB loaded as multiboot2 modules named "app NAME" (with their symbol files,
// for crash reports, all in the one module "app-symbols": Core/SymbolBundle.cs), and the loader that
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
        private static readonly List<ulong> s_symbolStarts = new List<ulong>();
        private static readonly List<ulong> s_symbolLengths = new List<ulong>();
        // Each image is checked once, when it is registered: spawning parses and allocates nothing.
        private static readonly List<ElfImage> s_images = new List<ElfImage>();
        private static readonly List<string> s_imageErrors = new List<string>();

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
                ReadOnlySpan<byte> file = new ReadOnlySpan<byte>(KernelMemory.PhysicalToVirtual(module.Start), (int)module.Length);
                bool valid = ElfImage.TryParse(file, out ElfImage image, out string error);
                s_images.Add(valid ? image : null);
                s_imageErrors.Add(valid ? null : error);
            }
            RegisterSymbolFiles(modules);
        }

        /// <summary>Each image's symbol file: the entry NAME of the module "app-symbols", the
        /// bundle Cosmos.targets writes with the symbol file of every "app NAME" (one module, not
        /// one per app: GRUB's time grows with the number of modules). Crash reports of the
        /// image's environments use it.</summary>
        private static void RegisterSymbolFiles(ReadOnlyListView<BootModule> modules)
        {
            for (int i = 0; i < s_names.Count; i++)
            {
                s_symbolStarts.Add(0);
                s_symbolLengths.Add(0);
            }
            for (int i = 0; i < modules.Count; i++)
            {
                if (modules[i].CommandLine != SymbolBundle.ModuleName) continue;
                ReadOnlySpan<byte> bundle = new ReadOnlySpan<byte>(KernelMemory.PhysicalToVirtual(modules[i].Start), (int)modules[i].Length);
                int offset = 0;
                while (SymbolBundle.TryReadEntry(bundle, ref offset, out int nameOffset, out int nameLength, out int fileOffset, out int fileLength))
                {
                    int index = IndexOf(bundle.Slice(nameOffset, nameLength));
                    if (index < 0) continue;
                    s_symbolStarts[index] = modules[i].Start + (ulong)fileOffset;
                    s_symbolLengths[index] = (ulong)fileLength;
                }
            }
        }

        /// <summary>The symbol file of the image named name (no allocation: a crash report asks).</summary>
        public static bool TryGetSymbols(string name, out ReadOnlySpan<byte> symbols)
        {
            symbols = default;
            int index = name == null ? -1 : s_names.IndexOf(name);
            if (index < 0 || s_symbolStarts[index] == 0) return false;
            symbols = new ReadOnlySpan<byte>(KernelMemory.PhysicalToVirtual(s_symbolStarts[index]), (int)s_symbolLengths[index]);
            return true;
        }

        public static bool Exists(string name) => s_names.IndexOf(name) >= 0;

        /// <summary>The index of the image whose name is these bytes (compared byte by byte with
        /// the registered names: nothing is allocated), or -1.</summary>
        public static int IndexOf(ReadOnlySpan<byte> name)
        {
            for (int index = 0; index < s_names.Count; index++)
            {
                string candidate = s_names[index];
                if (candidate.Length != name.Length) continue;
                int i = 0;
                while (i < name.Length && candidate[i] == (char)name[i]) i++;
                if (i == name.Length) return index;
            }
            return -1;
        }

        /// <summary>Creates a stopped environment running the named image: segments mapped (frames
        /// owned by it), a stack below InitialStackTop, the argument in its environment page.
        /// account null: a child of parentId joins the parent's account; the kernel's own spawn
        /// (parentId 0) opens a new account with the whole user pool (Accounts.Whole).</summary>
        public static Error Spawn(ulong parentId, string name, string argument, out Environment environment, out string problem, Account account = null)
        {
            environment = null;
            problem = null;
            int index = s_names.IndexOf(name);
            if (index < 0)
            {
                problem = "no boot image named '" + name + "'";
                return Error.NoSuchImage;
            }
            if (s_images[index] == null)
            {
                problem = "boot image '" + name + "' is not a valid app: " + s_imageErrors[index];
                return Error.InvalidArgument;
            }
            argument ??= "";
            int length = argument.Length < 255 ? argument.Length : 255;
            for (int i = 0; i < length; i++) s_argument[i] = argument[i] < 0x80 ? (byte)argument[i] : (byte)'?';
            return Spawn(parentId, index, new ReadOnlySpan<byte>(s_argument, 0, length), account, out environment, out problem);
        }

        private static readonly byte[] s_argument = new byte[255];

        /// <summary>Spawn of the image at 'index' with the argument as bytes. Allocates nothing: the
        /// image was parsed at registration, the object comes from the pool, problems are literals.</summary>
        public static Error Spawn(ulong parentId, int index, ReadOnlySpan<byte> argument, Account account, out Environment environment, out string problem)
        {
            environment = null;
            problem = null;
            if (index < 0 || index >= s_names.Count)
            {
                problem = "no such boot image";
                return Error.NoSuchImage;
            }
            ElfImage image = s_images[index];
            if (image == null)
            {
                problem = "the boot image is not a valid app";
                return Error.InvalidArgument;
            }
            bool opened = false;
            if (account == null)
            {
                Environment parent = parentId == 0 ? null : Environments.Find(parentId);
                if (parent != null)
                    account = parent.Account;
                else
                {
                    account = Accounts.Open(Accounts.Whole);
                    opened = true;
                }
                if (account == null)
                {
                    problem = "no account is free";
                    return Error.NoMemory;
                }
            }
            string name = s_names[index];
            ReadOnlySpan<byte> file = new ReadOnlySpan<byte>(KernelMemory.PhysicalToVirtual(s_starts[index]), (int)s_lengths[index]);
            Error result = Environments.Create(parentId, name, account, out Environment created);
            if (result != Error.None)
            {
                if (opened) Accounts.CloseIfEmpty(account);
                problem = result == Error.QuotaExceeded ? "its account's quota is used up" : "no room for another environment";
                return result;
            }
            result = LoadSegments(created, image, file);
            if (result == Error.None)
                result = CreateStack(created);
            if (result != Error.None)
            {
                problem = result == Error.QuotaExceeded ? "its account's frame quota ran out while loading the image" : "out of memory while loading the image";
                Environments.Destroy(created, EnvironmentState.Destroyed, DestroyReason.BadImage, 0, null);
                return result;
            }
            created.Frame->Rip = image.Entry;
            created.Frame->Rsp = UserAddresses.InitialStackTop;
            SetArgument(created, argument);
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

        private static void SetArgument(Environment environment, ReadOnlySpan<byte> argument)
        {
            int length = argument.Length < 255 ? argument.Length : 255;
            for (int i = 0; i < length; i++)
                environment.Page->Argument[i] = argument[i];
            environment.Page->ArgumentLength = (ulong)length;
        }
    }
}
