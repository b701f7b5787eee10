// syscall-fuzz: system calls with random numbers (mostly Aegis's, SystemCallNumbers.First ..
// End + 5; a quarter below First, the numbers a hosted program uses, which with the system-call
// upcall off must fail with NoSuchCall; some from End on up to ulong.MaxValue) and arguments drawn
// from hostile values: 0, kernel and non-canonical addresses, misaligned and huge values,
// ulong.MaxValue, random 64-bit words, small integers, other environments' ids, its own mapped
// addresses and frames. The kernel must answer every one with a result or an error; it judges
// the run itself (the calls it counted, no panic, no frame lost, a bystander unharmed).
//
// Re-rolled, because they would end or block the fuzzer itself: Exit, Wait, EnvironmentDestroy and EnvironmentStop
// of itself, SliceFree of its last slice, SetFsBase to a user address (its TLS), and Debug
// most of the time (each one prints a kernel line). Nothing else is limited (issue #7): creates
// and spawns run until the account's quota or the capability table refuses (no system call
// allocates kernel memory any more); ImageSpawn also gets real and missing names; now and then
// the fuzzer takes every frame its quota allows and goes on under that pressure. The image
// "syscall-fuzz-long" (Tests/Apps/SyscallFuzzLong, the same program) makes LongCalls calls. Confined, because they would unmap or
// change its own memory: PageMap and PageClean on itself (through Self or any copy of it) only name addresses in a scratch range
// (or addresses no libOS may map), with requests read from a buffer that ends at a guard page;
// FrameFree never names a frame it uses; EnvironmentSetUpcall on itself re-registers its real
// entry; ConsoleWrite through any Console capability only gets buffers the kernel refuses (no junk on the console);
// SetSystemCallUpcall only gets entries the kernel refuses, or 0 (the fuzzer keeps the upcall off:
// on, its own calls below First would jump to a random entry; the protection suite's
// syscall-upcall tests cover it on).
// DeviceMap, InputRead and InputPeek (the suite gives it the device capabilities) only name its
// scratch range or memory that is not its own. WaitUntil only gets deadlines that have passed
// (a later one would block it: nothing wakes the fuzzer).
// The generator is xorshift64* from a seed printed at the start (argument: a hex seed to replay).
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.SyscallFuzz
{
    internal static unsafe class Program
    {
        private const int Calls = 120000;
        private const int LongCalls = 1000000;
        private const int DrainOneIn = 40000;
        private const ulong AegisNumbers = SystemCallNumbers.End - SystemCallNumbers.First + 6;
        private const int ScratchPages = 16;
        private const int BufferRequests = 8;
        private const int FramePoolSize = 256;
        private const int DebugOneIn = 256;
        private const long MostNegativeError = -4096;

        private static readonly ulong[] s_hostile =
        {
            0, 1, 2, 3, 7, 8, 63, 64, 255, 4095, 4096, 4097, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x1_0000_0000,
            0xFFFF_FFFF_8010_0000, 0xFFFF_8000_0000_0000, 0xFFFF_FFFF_FFFF_F000, 0x0000_8000_0000_0000,
            0x0000_7FFF_FFFF_F000, UserAddresses.InfoPage, UserAddresses.EnvironmentPage, UserAddresses.ReservedTop,
            UserAddresses.ReservedTop - 1, UserAddresses.UserEnd - 1, UserAddresses.LowestMappable - 1,
            UserAddresses.LowestMappable, UserAddresses.LowestMappable + 1, 0x0000_1234_5678_9ABC,
            ulong.MaxValue, ulong.MaxValue - 1, long.MaxValue, 0x8000_0000_0000_0000, 0xDEAD_BEEF_DEAD_BEEF,
            SystemCallLimits.AnyFrame, (ulong)SystemCallLimits.MaximumMapRequests, (ulong)SystemCallLimits.MaximumMapRequests + 1,
            (ulong)SystemCallLimits.MaximumConsoleWrite + 1, 0xFFFF_FFFF_FFFF_FFF9, 0xFFFF_FFFF_FFFF_FFF6,
        };

        private static ulong s_state;
        private static ulong s_scratch;          // ScratchPages pages; the first half mapped
        private static ulong s_requestPage;      // one page; the request buffer ends at its end
        private static PageMapRequest* s_requests;
        private static ulong[] s_protectedFrames;
        private static ulong[] s_framePool;
        private static int s_framePoolCount;
        private static ulong s_errors;
        private static int s_created;
        private static int s_drains;
        private static byte* s_names;
        private static byte[] s_nameBuffer;
        private const int NameBytes = 128;
        private static readonly string[] s_spawnNames =
        {
            "no-such-image", "hello", "bystander", "syscall-fuzz-", "SYSCALL-FUZZ", "hello ", "h",
            "a-name-exactly-sixty-four-bytes-long-for-the-kernel-limit-000000",
            "a-name-of-sixty-five-bytes-one-past-the-limit-of-the-kernel-00000",
        };

        private static int Main()
        {
            s_state = Seed();
            int calls = Info.ImageName == "syscall-fuzz-long" ? LongCalls : Calls;
            Console.WriteLine("syscall-fuzz: seed " + s_state.ToString("x") + ", " + calls.ToString() + " calls");
            if (!Prepare())
            {
                Console.WriteLine("syscall-fuzz: cannot set up its scratch memory");
                return 1;
            }
            for (int call = 0; call < calls; call++)
                OneCall();
            int children = DestroyChildren();
            Console.WriteLine("syscall-fuzz: " + calls.ToString() + " calls, " + s_errors.ToString() + " errors ("
                + s_created.ToString() + " environments created, " + s_drains.ToString() + " frame drains, " + children.ToString() + " still alive at the end destroyed)");
            return 0;
        }

        private static ulong Seed()
        {
            string argument = Info.Argument;
            ulong seed = 0;
            for (int i = 0; i < argument.Length; i++)
            {
                int digit = HexDigit(argument[i]);
                if (digit < 0)
                {
                    seed = 0;
                    break;
                }
                seed = (seed << 4) | (uint)digit;
            }
            if (seed == 0)
                seed = 0x9E37_79B9_7F4A_7C15UL ^ (Info.Ticks * 0xBF58_476D_1CE4_E5B9UL) ^ Info.EnvironmentId;
            return seed == 0 ? 1 : seed;
        }

        private static int HexDigit(char c)
            => c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

        /// <summary>xorshift64*.</summary>
        private static ulong Next()
        {
            s_state ^= s_state >> 12;
            s_state ^= s_state << 25;
            s_state ^= s_state >> 27;
            return s_state * 0x2545_F491_4F6C_DD1DUL;
        }

        private static ulong Below(ulong bound) => Next() % bound;

        /// <summary>Scratch pages, the request buffer, and the frames the fuzzer must never free.
        /// Everything the loop needs is allocated here: the loop itself allocates nothing.</summary>
        private static bool Prepare()
        {
            s_scratch = AddressSpace.Reserve(ScratchPages);
            s_requestPage = AddressSpace.Reserve(1);
            if (s_scratch == 0 || s_requestPage == 0)
                return false;
            if (Memory.AllocateAndMap(s_scratch, ScratchPages / 2, Memory.ReadWrite) != Error.None
                || Memory.AllocateAndMap(s_requestPage, 1, Memory.ReadWrite) != Error.None)
                return false;
            // A count past the buffer runs into the guard page after the range: BadAddress.
            s_requests = (PageMapRequest*)(s_requestPage + Memory.PageSize) - BufferRequests;
            s_framePool = new ulong[FramePoolSize];
            // On the heap (never moved: no collector), which PageMap and FrameFree leave alone.
            s_nameBuffer = new byte[NameBytes];
            fixed (byte* names = s_nameBuffer)
                s_names = names;
            s_protectedFrames = ProtectedFrames();
            return true;
        }

        /// <summary>Every frame mapped where the fuzzer lives (image, heap, stacks, request page), sorted.</summary>
        private static ulong[] ProtectedFrames()
        {
            int total = 0;
            for (int pass = 0; pass < 2; pass++)
            {
                ulong[] frames = pass == 0 ? null : new ulong[total];
                int count = 0;
                for (int region = 0; region < InheritedRegions.Count + 2; region++)
                {
                    RegionAt(region, out ulong start, out ulong pages);
                    for (ulong i = 0; i < pages; i++)
                    {
                        if (Memory.Query(start + i * Memory.PageSize, out PageInfo mapping) != Error.None)
                            continue;
                        if (frames != null && count < frames.Length)
                            frames[count] = mapping.Frame;
                        count++;
                    }
                }
                if (pass == 0)
                {
                    total = count;
                    continue;
                }
                System.Array.Sort(frames, (a, b) => a.CompareTo(b));
                return frames;
            }
            return null;
        }

        /// <summary>The regions the fuzzer must not disturb: those a fork would inherit, the upcall
        /// stack and the request page.</summary>
        private static void RegionAt(int index, out ulong start, out ulong pages)
        {
            if (index < InheritedRegions.Count)
            {
                InheritedRegions.Get(index, out start, out pages);
                return;
            }
            if (index == InheritedRegions.Count)
            {
                start = AddressSpace.UpcallStackBottom;
                pages = AddressSpace.UpcallStackPages;
                return;
            }
            start = s_requestPage;
            pages = 2; // and the guard page after it, which must stay unmapped
        }

        private static bool IsProtectedAddress(ulong address)
        {
            for (int region = 0; region < InheritedRegions.Count + 2; region++)
            {
                RegionAt(region, out ulong start, out ulong pages);
                if (address >= start && address - start < pages * Memory.PageSize)
                    return true;
            }
            return false;
        }

        private static bool IsProtectedFrame(ulong frame)
        {
            int low = 0, high = s_protectedFrames.Length - 1;
            while (low <= high)
            {
                int middle = (low + high) / 2;
                if (s_protectedFrames[middle] == frame) return true;
                if (s_protectedFrames[middle] < frame) low = middle + 1;
                else high = middle - 1;
            }
            return false;
        }

        /// <summary>One argument: a hostile constant, a small integer, a random word, an environment
        /// id, one of our own addresses, or one of our own frames.</summary>
        private static ulong Argument()
        {
            switch (Below(8))
            {
                case 0:
                case 1: return s_hostile[Below((ulong)s_hostile.Length)];
                case 2: return Below(72);
                case 3: return Next();
                case 4: return ((1 + Below(2)) << 10) | (1 + Below(63));      // ids 0x401.., 0x801..
                case 5: return OwnAddress();
                case 6: return s_framePoolCount == 0 ? Below(0x20000) : s_framePool[Below((ulong)s_framePoolCount)];
                default: return Below(2) == 0 ? Below(CapabilitySlots.Count + 2) : Below(0x20000);
            }
        }

        private static ulong OwnAddress()
        {
            ulong marker = 0;
            switch (Below(5))
            {
                case 0: return s_scratch + Below(ScratchPages) * Memory.PageSize + (Below(4) == 0 ? Below(Memory.PageSize) : 0);
                case 1: return (ulong)s_requests;
                case 2: return (ulong)&marker;
                case 3: return UserAddresses.ImageBase + Below(16) * Memory.PageSize;
                default: return AddressSpace.HeapBase + Below(16) * Memory.PageSize;
            }
        }

        /// <summary>An address PageMap or PageClean may safely name in our own address space.</summary>
        private static ulong SafeOwnTarget()
        {
            ulong address = Below(3) == 0 ? Argument() : s_scratch + Below(ScratchPages) * Memory.PageSize + (Below(8) == 0 ? 1UL : 0);
            return IsProtectedAddress(address & ~(Memory.PageSize - 1)) ? s_scratch : address;
        }

        private static void OneCall()
        {
            if (Below(DrainOneIn) == 0)
            {
                // Take every frame the account allows; the calls that follow run without memory.
                s_drains++;
                while (!SystemCalls.FrameAllocate().IsError) { }
            }
            while (true)
            {
                ulong number = Number();
                ulong a0 = Argument(), a1 = Argument(), a2 = Argument(), a3 = Argument(), a4 = Argument(), a5 = Argument();
                if (!Confine((SystemCall)number, ref a0, ref a1, ref a2, ref a3))
                    continue;
                SystemCallResult result = SystemCalls.Invoke(number, a0, a1, a2, a3, a4, a5);
                if (result.Raw < 0 && result.Raw > MostNegativeError)
                    s_errors++;
                else if ((SystemCall)number == SystemCall.FrameAllocate && s_framePoolCount < FramePoolSize)
                    s_framePool[s_framePoolCount++] = result.Value;
                else if ((SystemCall)number == SystemCall.EnvironmentCreate)
                    s_created++;
                return;
            }
        }

        /// <summary>A call number: Aegis's range (and 6 past it) most of the time, a hosted program's
        /// (0 .. First - 1) a quarter of the time, now and then any 64-bit value.</summary>
        private static ulong Number()
        {
            ulong pick = Below(16);
            if (pick < 4) return Below(SystemCallNumbers.First);
            if (pick == 4) return Below(2) == 0 ? Next() : SystemCallNumbers.End + Below(1024);
            return SystemCallNumbers.First + Below(AegisNumbers);
        }

        /// <summary>False to re-roll a call that would end or block the fuzzer; otherwise keeps the
        /// call but confines what could damage the fuzzer's own memory (see the header).</summary>
        private static bool Confine(SystemCall call, ref ulong a0, ref ulong a1, ref ulong a2, ref ulong a3)
        {
            switch (call)
            {
                case SystemCall.Exit:
                case SystemCall.Wait:
                    return false;
                case SystemCall.ImageSpawn:
                    if (Below(2) == 0)
                        SpawnName(ref a0, ref a1);
                    return true;
                case SystemCall.EnvironmentDestroy:
                case SystemCall.EnvironmentStop:
                    return !NamesSelf(a0);
                case SystemCall.SliceFree:
                    return !(a0 < 64 && Info.SliceOwner((int)a0) == Info.EnvironmentId && OwnSlices() <= 1);
                case SystemCall.SetFsBase:
                    return a0 >= UserAddresses.UserEnd;
                case SystemCall.Debug:
                    return Below(DebugOneIn) == 0;
                case SystemCall.SetSystemCallUpcall:
                    return a0 == 0 || a0 < UserAddresses.LowestMappable || a0 >= UserAddresses.ReservedTop;
                case SystemCall.FrameFree:
                    return !IsProtectedFrame(a0);
                case SystemCall.EnvironmentSetUpcall:
                    if (NamesSelf(a0))
                    {
                        a1 = Upcalls.EntryAddress;
                        a2 = AddressSpace.UpcallStackTop;
                    }
                    return true;
                case SystemCall.ConsoleWrite:
                    if (a2 != 0 && IsConsole(a0))
                        a1 = s_hostile[Below((ulong)s_hostile.Length)] | 0xFFFF_8000_0000_0000; // never user memory
                    return true;
                case SystemCall.PageClean:
                    if (NamesSelf(a0))
                        a1 = SafeOwnTarget();
                    return true;
                case SystemCall.PageMap:
                    if (NamesSelf(a0))
                        FillRequests(ref a1, ref a2);
                    return true;
                case SystemCall.DeviceMap:
                    // Maps into the caller whatever the slot: never over its own memory (the
                    // scratch range's mapped half is fair game).
                    for (ulong page = 0; page < InputLimits.DisplayPages; page++)
                        if (IsProtectedAddress((a1 & ~(Memory.PageSize - 1)) + page * Memory.PageSize))
                        {
                            a1 = s_scratch;
                            break;
                        }
                    return true;
                case SystemCall.IpcReply:
                    // Reply-and-wait (flags 1 and 2) resumes the Wait an IPC upcall interrupted from the
                    // saved upcall frame; called from the fuzzer's loop with a call still pending, it
                    // would jump back into a stale state of the fuzzer itself (not the kernel's harm).
                    if (a2 == IpcReplyFlags.AndWait || a2 == IpcReplyFlags.AndWaitUntil) a2 = IpcReplyFlags.None;
                    return true;
                case SystemCall.WaitUntil:
                    // A deadline that has passed (the TSC is far beyond 2^20 by now): it returns at once.
                    a0 &= 0xFFFFF;
                    return true;
                case SystemCall.InputRead:
                case SystemCall.InputPeek:
                    // Input may be waiting: it is never written into the fuzzer's own memory.
                    if (a2 != 0 && (IsProtectedAddress(a1 & ~(Memory.PageSize - 1)) || IsProtectedAddress((a1 + a2 - 1) & ~(Memory.PageSize - 1))))
                        a1 = s_scratch;
                    return true;
                default:
                    return true;
            }
        }

        /// <summary>Whether 'slot' names this environment: the Self slot, or another slot holding
        /// a copy of it (CapabilityCopy(Self, Self) makes one), which must be confined the same way
        /// (unconfined, a PageMap through it once unmapped the fuzzer's own request page).</summary>
        private static bool NamesSelf(ulong slot)
        {
            if (slot == CapabilitySlots.Self) return true;
            SystemCallResult held = SystemCalls.CapabilityQuery(slot);
            return !held.IsError && held.Value == (ulong)CapabilityKind.Environment && held.Second == Info.EnvironmentId;
        }

        /// <summary>PageMap on ourselves: requests from the buffer before the guard page, naming only
        /// scratch pages or addresses no libOS may map; or a requests pointer the kernel refuses.</summary>
        private static void FillRequests(ref ulong requestsAddress, ref ulong count)
        {
            if (Below(4) == 0)
            {
                requestsAddress = s_hostile[Below((ulong)s_hostile.Length)] | 0xFFFF_8000_0000_0000;
                return;
            }
            int first = (int)Below(BufferRequests);
            for (int i = first; i < BufferRequests; i++)
            {
                s_requests[i].VirtualAddress = SafeOwnTarget();
                s_requests[i].Frame = Argument();
                s_requests[i].Permissions = Below(2) == 0 ? Argument() : Below(2) == 0 ? PageBits.Writable | PageBits.NoExecute : PageBits.Allowed;
                s_requests[i].Operation = (PageMapOperation)(Below(4) == 0 ? (uint)Next() : (uint)Below(3));
                s_requests[i].Reserved = (uint)Below(2);
            }
            requestsAddress = (ulong)(s_requests + first);
            if (Below(2) == 0)
                count = 1 + Below((ulong)(BufferRequests - first)); // inside the buffer: applied
        }

        /// <summary>ImageSpawn's name: one of s_spawnNames (missing, real, at and past the length
        /// limit) or random bytes.</summary>
        private static void SpawnName(ref ulong address, ref ulong length)
        {
            if (Below(4) == 0)
            {
                ulong count = 1 + Below(NameBytes);
                for (ulong i = 0; i < count; i++) s_names[i] = (byte)Next();
                address = (ulong)s_names;
                length = Below(8) == 0 ? Next() : count;
                return;
            }
            string name = s_spawnNames[Below((ulong)s_spawnNames.Length)];
            for (int i = 0; i < name.Length && i < NameBytes; i++) s_names[i] = (byte)name[i];
            address = (ulong)s_names;
            length = (ulong)name.Length;
        }

        /// <summary>Whether 'slot' holds a Console capability (CapabilityCopy may have put copies anywhere).</summary>
        private static bool IsConsole(ulong slot)
        {
            SystemCallResult held = SystemCalls.CapabilityQuery(slot);
            return !held.IsError && held.Value == (ulong)CapabilityKind.Console;
        }

        private static int OwnSlices()
        {
            int owned = 0;
            for (int i = 0; i < 64; i++)
                if (Info.SliceOwner(i) == Info.EnvironmentId)
                    owned++;
            return owned;
        }

        /// <summary>Destroys every environment it created (those whose capabilities it still holds).</summary>
        private static int DestroyChildren()
        {
            int destroyed = 0;
            for (ulong slot = 1; slot < CapabilitySlots.Count; slot++)
            {
                SystemCallResult held = SystemCalls.CapabilityQuery(slot);
                if (held.IsError || held.Value != (ulong)CapabilityKind.Environment || held.Second == Info.EnvironmentId)
                    continue;
                if (SystemCalls.EnvironmentDestroy(slot) == Error.None)
                    destroyed++;
            }
            return destroyed;
        }
    }
}
