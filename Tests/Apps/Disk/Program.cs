// disk: the Disk and Extent capabilities from ring 3 (issue #11; docs/abi.md "Disks"). It prints
// what it did; the boot test (Aegis.Tests/Boot/DiskTests.cs) judges from the image file on the
// host, never from this program's say-so.
//   info   the disk's BlockInfo and each named extent's ("disk: extent NAME start S sectors N").
//   rw     opens "scratch"; reads its first 64 sectors with one request and prints their FNV-1a
//          hash; reads sectors 64..191 as 16 one-page requests in flight at once (tags 100..115,
//          each must complete once) and prints their hash; writes 16 pages of pattern
//          (byte i = (i * 31 + 7) mod 251) at sector 256 and flushes.
//   bad    every refusal: a request past the extent, an unmapped buffer, a read into read-only
//          memory (its code, the information page, the PCI table), a write through a read-only
//          copy, a malformed flush, a bad request address, a slot that is no extent, BlockComplete
//          with a bad buffer or count, unknown and too-long names, the 33rd request in flight.
//          "disk: bad WHAT RESULT" each.
//   alloc  allocates "made-by-app" (4096 sectors), writes one page of pattern 0xA5 at its sector 8,
//          flushes, frees "doomed" (made by the host) and shows its capability is dead after.
//   free-in-flight  reads 8 pages, frees their frames while the request is in flight, then
//          collects the completion (the kernel must keep the frames until the device is done).
using System;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Disk
{
    internal static unsafe class Program
    {
        private const ulong Buffer = 0x50000000;      // 32 pages for requests
        private const ulong Spare = 0x50100000;       // 16 pages: one-page requests in flight
        private const ulong CompletionsAt = 0x50200000;

        private static int Main()
        {
            switch (Info.Argument)
            {
                case "info": return InfoMode();
                case "rw": return ReadWrite();
                case "bad": return Bad();
                case "alloc": return Alloc();
                case "free-in-flight": return FreeInFlight();
                default:
                    Console.WriteLine("disk: unknown mode '" + Info.Argument + "' (info, rw, bad, alloc, free-in-flight)");
                    return 2;
            }
        }

        private static string Name(Error error) => error == Error.None ? "ok" : Errors.Name(error);

        private static bool Setup()
        {
            if (Memory.AllocateAndMap(Buffer, 32, Memory.ReadWrite) != Error.None
                || Memory.AllocateAndMap(Spare, 16, Memory.ReadWrite) != Error.None
                || Memory.AllocateAndMap(CompletionsAt, 1, Memory.ReadWrite) != Error.None)
            {
                Console.WriteLine("disk: cannot map its buffers");
                return false;
            }
            return true;
        }

        private static ulong Open(string name)
        {
            byte* bytes = stackalloc byte[name.Length];
            for (int i = 0; i < name.Length; i++) bytes[i] = (byte)name[i];
            SystemCallResult result = SystemCalls.ExtentOpen(CapabilitySlots.Disk, bytes, (ulong)name.Length);
            if (result.IsError) { Console.WriteLine("disk: open " + name + " " + Errors.Name(result.Error)); return 0; }
            return result.Value;
        }

        private static Error Submit(ulong slot, ulong tag, BlockOperation operation, ulong sector, ulong buffer, uint pages)
        {
            BlockRequest request = new BlockRequest { Tag = tag, Operation = operation, Sector = sector, Buffer = buffer, Pages = pages };
            return SystemCalls.BlockSubmit(slot, &request);
        }

        /// <summary>Waits until 'count' completions came; each tag's status into statuses (by tag - firstTag).</summary>
        private static bool Collect(int count, ulong firstTag, long* statuses, int* seen)
        {
            BlockCompletion* completions = (BlockCompletion*)CompletionsAt;
            int got = 0;
            for (int rounds = 0; got < count && rounds < 10000; rounds++)
            {
                SystemCallResult result = SystemCalls.BlockComplete(completions, 32);
                if (result.IsError) { Console.WriteLine("disk: BlockComplete " + Errors.Name(result.Error)); return false; }
                for (ulong i = 0; i < result.Value; i++)
                {
                    ulong index = completions[i].Tag - firstTag;
                    if (index >= (ulong)count) { Console.WriteLine("disk: a completion with tag " + completions[i].Tag.ToString()); return false; }
                    statuses[index] = completions[i].Status;
                    seen[index]++;
                    got++;
                }
                if (got < count) SystemCalls.Wait();
            }
            return got == count;
        }

        private static ulong Hash(byte* bytes, ulong length)
        {
            ulong hash = 0xCBF29CE484222325;
            for (ulong i = 0; i < length; i++) hash = (hash ^ bytes[i]) * 0x100000001B3;
            return hash;
        }

        private static int InfoMode()
        {
            BlockInfo info;
            Error error = SystemCalls.BlockInfo(CapabilitySlots.Disk, &info);
            if (error != Error.None) { Console.WriteLine("disk: info " + Name(error)); return 1; }
            Console.WriteLine("disk: info sectors " + info.Sectors.ToString() + " free " + info.FreeOrStart.ToString() + " extents "
                + info.Extents.ToString() + " flags " + info.Flags.ToString() + " controller " + info.Controller.ToString());
            foreach (string name in new[] { "rootfs", "scratch", "doomed" })
            {
                ulong slot = Open(name);
                if (slot == 0) continue;
                error = SystemCalls.BlockInfo(slot, &info);
                Console.WriteLine("disk: extent " + name + " start " + info.FreeOrStart.ToString() + " sectors " + info.Sectors.ToString() + " flags " + info.Flags.ToString() + " " + Name(error));
            }
            return 0;
        }

        private static int ReadWrite()
        {
            if (!Setup()) return 1;
            ulong scratch = Open("scratch");
            if (scratch == 0) return 1;
            long* statuses = stackalloc long[16];
            int* seen = stackalloc int[16];
            // One request of 8 pages.
            Error error = Submit(scratch, 1, BlockOperation.Read, 0, Buffer, 8);
            if (error != Error.None || !Collect(1, 1, statuses, seen)) { Console.WriteLine("disk: read " + Name(error)); return 1; }
            Console.WriteLine("disk: read status " + statuses[0].ToString() + " hash " + Hash((byte*)Buffer, 8 * 4096).ToString("x16"));
            // 16 one-page requests in flight at once.
            for (int i = 0; i < 16; i++) { statuses[i] = 99; seen[i] = 0; }
            for (uint i = 0; i < 16; i++)
            {
                error = Submit(scratch, 100 + i, BlockOperation.Read, 64 + 8 * i, Spare + i * 4096, 1);
                if (error != Error.None) { Console.WriteLine("disk: submit " + i.ToString() + " " + Name(error)); return 1; }
            }
            if (!Collect(16, 100, statuses, seen)) { Console.WriteLine("disk: the 16 did not all complete"); return 1; }
            int once = 0, ok = 0;
            for (int i = 0; i < 16; i++) { if (seen[i] == 1) once++; if (statuses[i] == 0) ok++; }
            Console.WriteLine("disk: in flight 16 completed once " + once.ToString() + " ok " + ok.ToString() + " hash " + Hash((byte*)Spare, 16 * 4096).ToString("x16"));
            // Write 16 pages of pattern, then flush.
            byte* b = (byte*)Buffer;
            for (int i = 0; i < 16 * 4096; i++) b[i] = (byte)((i * 31 + 7) % 251);
            error = Submit(scratch, 200, BlockOperation.Write, 256, Buffer, 16);
            if (error != Error.None || !Collect(1, 200, statuses, seen)) { Console.WriteLine("disk: write " + Name(error)); return 1; }
            long written = statuses[0];
            error = Submit(scratch, 300, BlockOperation.Flush, 0, 0, 0);
            if (error != Error.None || !Collect(1, 300, statuses, seen)) { Console.WriteLine("disk: flush " + Name(error)); return 1; }
            Console.WriteLine("disk: wrote status " + written.ToString() + " flush status " + statuses[0].ToString());
            return 0;
        }

        private static int Bad()
        {
            if (!Setup()) return 1;
            ulong scratch = Open("scratch");
            if (scratch == 0) return 1;
            BlockInfo info;
            SystemCalls.BlockInfo(scratch, &info);
            ulong sectors = info.Sectors;
            Report("past-end", Submit(scratch, 1, BlockOperation.Read, sectors - 7, Buffer, 1));
            Report("huge-sector", Submit(scratch, 1, BlockOperation.Read, ulong.MaxValue - 3, Buffer, 1));
            Report("too-many-pages", Submit(scratch, 1, BlockOperation.Read, 0, Buffer, 33));
            Report("no-pages", Submit(scratch, 1, BlockOperation.Read, 0, Buffer, 0));
            Report("unaligned", Submit(scratch, 1, BlockOperation.Read, 0, Buffer + 8, 1));
            Report("unmapped", Submit(scratch, 1, BlockOperation.Read, 0, 0x60000000, 1));
            Report("half-unmapped", Submit(scratch, 1, BlockOperation.Read, 0, Buffer + 31 * 4096, 2));
            Report("kernel-address", Submit(scratch, 1, BlockOperation.Read, 0, 0xFFFF800000000000, 1));
            Report("into-info-page", Submit(scratch, 1, BlockOperation.Read, 0, UserAddresses.InfoPage, 1));
            Report("into-pci-table", Submit(scratch, 1, BlockOperation.Read, 0, UserAddresses.PciTable, 1));
            Report("bad-operation", Submit(scratch, 1, (BlockOperation)7, 0, Buffer, 1));
            Report("flush-with-buffer", Submit(scratch, 1, BlockOperation.Flush, 0, Buffer, 1));
            Report("bad-request-address", SystemCalls.BlockSubmit(scratch, 0x60000000UL));
            Report("console-slot", Submit(CapabilitySlots.Console, 1, BlockOperation.Read, 0, Buffer, 1));
            Report("disk-slot", Submit(CapabilitySlots.Disk, 1, BlockOperation.Read, 0, Buffer, 1));
            SystemCallResult restricted = SystemCalls.ExtentRestrict(scratch);
            Report("restrict", restricted.IsError ? restricted.Error : Error.None);
            if (!restricted.IsError)
            {
                Report("write-read-only", Submit(restricted.Value, 1, BlockOperation.Write, 0, Buffer, 1));
                Report("flush-read-only", Submit(restricted.Value, 1, BlockOperation.Flush, 0, 0, 0));
                Report("free-read-only", SystemCalls.ExtentFree(restricted.Value));
            }
            Report("complete-bad-buffer", SystemCalls.BlockComplete((BlockCompletion*)0x60000000, 4).Error);
            Report("complete-too-many", SystemCalls.BlockComplete((BlockCompletion*)CompletionsAt, 33).Error);
            byte* name = stackalloc byte[32];
            for (int i = 0; i < 32; i++) name[i] = (byte)'x';
            Report("open-unknown", SystemCalls.ExtentOpen(CapabilitySlots.Disk, name, 5).Error);
            Report("open-too-long", SystemCalls.ExtentOpen(CapabilitySlots.Disk, name, 25).Error);
            Report("open-bad-name-address", SystemCalls.ExtentOpen(CapabilitySlots.Disk, (byte*)0x60000000, 4).Error);
            Report("allocate-too-big", SystemCalls.ExtentAllocate(CapabilitySlots.Disk, 1UL << 40, name, 4).Error);
            Report("allocate-taken-name", SystemCalls.ExtentAllocate(CapabilitySlots.Disk, 8, Ascii("scratch", name), 7).Error);
            // The 33rd request out (completed or not, none collected) is refused.
            Error last = Error.None;
            int accepted = 0;
            for (uint i = 0; i < 33; i++)
            {
                last = Submit(scratch, 500 + i, BlockOperation.Read, 8 * (i % 16), Spare + (i % 16) * 4096, 1);
                if (last == Error.None) accepted++;
            }
            Console.WriteLine("disk: bad 33rd-request accepted " + accepted.ToString() + " last " + Name(last));
            long* statuses = stackalloc long[32];
            int* seen = stackalloc int[32];
            for (int i = 0; i < 32; i++) seen[i] = 0;
            bool all = Collect(32, 500, statuses, seen);
            Console.WriteLine("disk: bad collected-32 " + (all ? "yes" : "no"));
            return 0;
        }

        /// <summary>The string's characters as bytes into 'into' (at least its length); returns into.</summary>
        private static byte* Ascii(string text, byte* into)
        {
            for (int i = 0; i < text.Length; i++) into[i] = (byte)text[i];
            return into;
        }

        private static void Report(string what, Error error) => Console.WriteLine("disk: bad " + what + " " + Name(error));

        private static int Alloc()
        {
            if (!Setup()) return 1;
            byte* name = stackalloc byte[16];
            string text = "made-by-app";
            for (int i = 0; i < text.Length; i++) name[i] = (byte)text[i];
            SystemCallResult made = SystemCalls.ExtentAllocate(CapabilitySlots.Disk, 4096, name, 11);
            if (made.IsError) { Console.WriteLine("disk: allocate " + Errors.Name(made.Error)); return 1; }
            BlockInfo info;
            SystemCalls.BlockInfo(made.Value, &info);
            Console.WriteLine("disk: allocated made-by-app start " + info.FreeOrStart.ToString() + " sectors " + info.Sectors.ToString());
            byte* b = (byte*)Buffer;
            for (int i = 0; i < 4096; i++) b[i] = 0xA5;
            long* statuses = stackalloc long[1];
            int* seen = stackalloc int[1];
            Error error = Submit(made.Value, 1, BlockOperation.Write, 8, Buffer, 1);
            if (error != Error.None || !Collect(1, 1, statuses, seen)) { Console.WriteLine("disk: write " + Name(error)); return 1; }
            Console.WriteLine("disk: wrote made-by-app status " + statuses[0].ToString());
            error = Submit(made.Value, 2, BlockOperation.Flush, 0, 0, 0);
            if (error != Error.None || !Collect(1, 2, statuses, seen)) { Console.WriteLine("disk: flush " + Name(error)); return 1; }
            ulong doomed = Open("doomed");
            if (doomed == 0) return 1;
            SystemCallResult copy = SystemCalls.ExtentRestrict(doomed);
            Console.WriteLine("disk: free doomed " + Name(SystemCalls.ExtentFree(doomed)));
            Console.WriteLine("disk: after free: read " + Name(Submit(doomed, 3, BlockOperation.Read, 0, Buffer, 1))
                + " copy " + Name(SystemCalls.BlockInfo(copy.Value, &info)) + " open " + Name(SystemCalls.ExtentOpen(CapabilitySlots.Disk, Ascii("doomed", name), 6).Error));
            return 0;
        }

        private static int FreeInFlight()
        {
            if (!Setup()) return 1;
            ulong scratch = Open("scratch");
            if (scratch == 0) return 1;
            ulong* frames = stackalloc ulong[8];
            for (int i = 0; i < 8; i++)
            {
                SystemCallResult query = SystemCalls.PageQuery(CapabilitySlots.Self, Buffer + (ulong)i * 4096);
                frames[i] = (query.Value & PageBits.FrameMask) >> PageBits.FrameShift;
            }
            Error error = Submit(scratch, 1, BlockOperation.Read, 0, Buffer, 8);
            int freed = 0;
            for (int i = 0; i < 8; i++) if (Memory.FreeFrame(frames[i]) == Error.None) freed++;
            long* statuses = stackalloc long[1];
            int* seen = stackalloc int[1];
            seen[0] = 0;
            bool done = error == Error.None && Collect(1, 1, statuses, seen);
            Console.WriteLine("disk: free-in-flight submit " + Name(error) + " freed " + freed.ToString() + " completed " + (done ? statuses[0].ToString() : "no"));
            return 0;
        }
    }
}
