// The packet-filter engine's cost per received frame (issue #12; docs/network-filters.md,
// docs/benchmarks.md "Packet filters"), measured in the kernel at boot with the kernel argument
// `filterbench`: for 1, 10, 100 and 1,000 installed filters — each a TCP destination port of its
// own owner (ethertype 0x0800, IP protocol 6, transport offset 2) — the merged set is compiled
// into the code window (KernelMemory.MapCode: read-only, executable; written through the direct
// map) and a TCP frame for the last port installed is classified 10,000 times by the compiled
// code and 10,000 times by the interpreter, timed with RDTSC (under -icount: instructions).
// Prints "BENCH filter_compiled@N 10000 X" and "BENCH filter_interpreted@N 10000 Y", and a FAIL
// line if the two ever disagree or miss the filter. Then what a change of the set costs the
// kernel (a filter installed or removed, and the set compiled again, as NicFilterInstall,
// NicFilterDelegate and NicFilterRemove do with interrupts off), in a set of the kernel's own
// capacity holding N filters: "BENCH filter_change@N 100 Z", Z the instructions a change (the
// mean of 50 installs and 50 removals). Allocates only at boot (the sets' pools and the code
// frames), once.
using System;
using Aegis.Abi;
using Aegis.Kernel.Core.Net;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class FilterBench
    {
        private const int CodePages = 64;
        private const int Rounds = 10000;

        public static void Run()
        {
            if (!KernelMemory.Frames.TryAllocateContiguous(CodePages, out ulong first))
            {
                KernelLog.WriteLine("filterbench: FAIL: no memory for the code");
                return;
            }
            byte* writable = (byte*)KernelMemory.PhysicalToVirtual(first * 4096);
            void* executable = KernelMemory.MapCode(first * 4096, CodePages);
            if (executable == null)
            {
                KernelLog.WriteLine("filterbench: FAIL: the code window cannot be mapped");
                return;
            }
            var classify = (delegate* unmanaged[SuppressGCTransition]<byte*, int, int>)executable;
            // The loop's own cost, measured with a classifier that does nothing (mov eax, -1; ret)
            // in the last code page, is printed apart and not taken out of the figures.
            const int CodeBytes = (CodePages - 1) * 4096;
            byte* stub = writable + CodeBytes;
            stub[0] = 0xB8; stub[1] = 0xFF; stub[2] = 0xFF; stub[3] = 0xFF; stub[4] = 0xFF; stub[5] = 0xC3;
            var nothing = (delegate* unmanaged[SuppressGCTransition]<byte*, int, int>)((byte*)executable + CodeBytes);
            byte* frame = stackalloc byte[64];
            FilterAtom* atoms = stackalloc FilterAtom[3];
            int[] sizes = { 1, 10, 100, 1000 };
            var set = new PacketFilterSet(1000, 4000);
            int installed = 0;
            foreach (int n in sizes)
            {
                for (; installed < n; installed++)
                {
                    FilterError error = Add(set, atoms, 1000u + (uint)installed, (ulong)(installed + 1), out _);
                    if (error != FilterError.None)
                    {
                        KernelLog.WriteLine("filterbench: FAIL: filter " + installed.ToString() + " refused: " + ((int)error).ToString());
                        return;
                    }
                }
                if (!set.Compile(writable, CodeBytes, out int size))
                {
                    KernelLog.WriteLine("filterbench: FAIL: the code for " + n.ToString() + " filters needs " + size.ToString() + " bytes");
                    return;
                }
                WriteTcpFrame(frame, 1000u + (uint)(n - 1));
                int expected = set.Classify(frame, 64);
                int compiledAnswer = 0, interpretedAnswer = 0;
                ulong start = Cpu.ReadTimestampCounter();
                for (int r = 0; r < Rounds; r++) compiledAnswer |= classify(frame, 64) ^ expected;
                ulong compiled = Cpu.ReadTimestampCounter() - start;
                start = Cpu.ReadTimestampCounter();
                for (int r = 0; r < Rounds; r++) interpretedAnswer |= set.Classify(frame, 64) ^ expected;
                ulong interpreted = Cpu.ReadTimestampCounter() - start;
                if (expected < 0 || compiledAnswer != 0 || interpretedAnswer != 0)
                    KernelLog.WriteLine("filterbench: FAIL: with " + n.ToString() + " filters the answers differ or miss (expected " + expected.ToString() + ")");
                KernelLog.WriteLine("BENCH filter_compiled@" + n.ToString() + " " + Rounds.ToString() + " " + Tenths(compiled));
                KernelLog.WriteLine("BENCH filter_interpreted@" + n.ToString() + " " + Rounds.ToString() + " " + Tenths(interpreted));
                int ignored = 0;
                start = Cpu.ReadTimestampCounter();
                for (int r = 0; r < Rounds; r++) ignored |= nothing(frame, 64) ^ expected;
                ulong loop = Cpu.ReadTimestampCounter() - start;
                KernelLog.WriteLine("filterbench: " + n.ToString() + " filters, " + size.ToString() + " bytes of code; the loop and call alone " + Tenths(loop) + (ignored != 0 ? "" : " (a do-nothing classifier)"));
            }
            MeasureChanges(writable, CodeBytes, atoms);
        }

        private static string Tenths(ulong cycles, int rounds = Rounds)
        {
            ulong tenths = (cycles * 10 + (ulong)rounds / 2) / (ulong)rounds;
            return (tenths / 10).ToString() + "." + (tenths % 10).ToString();
        }

        private const int Changes = 100;

        /// <summary>The filter_change@N figures: a set of the kernel's capacity (NetworkLimits), N
        /// port filters in it, and Changes / 2 rounds of one more filter installed and compiled,
        /// then removed and compiled.</summary>
        private static void MeasureChanges(byte* writable, int codeBytes, FilterAtom* atoms)
        {
            var set = new PacketFilterSet();
            int installed = 0;
            foreach (int n in new[] { 1, 10, 100, 1000 })
            {
                for (; installed < n; installed++)
                    if (Add(set, atoms, 1000u + (uint)installed, (ulong)(installed + 1), out _) != FilterError.None)
                    {
                        KernelLog.WriteLine("filterbench: FAIL: filter " + installed.ToString() + " refused in the kernel-sized set");
                        return;
                    }
                bool compiled = true;
                ulong start = Cpu.ReadTimestampCounter();
                for (int r = 0; r < Changes / 2; r++)
                {
                    if (Add(set, atoms, 60000u, 5000, out int id) != FilterError.None) { compiled = false; break; }
                    compiled &= set.Compile(writable, codeBytes, out _);
                    set.Remove(id);
                    compiled &= set.Compile(writable, codeBytes, out _);
                }
                ulong cost = Cpu.ReadTimestampCounter() - start;
                if (!compiled) KernelLog.WriteLine("filterbench: FAIL: a change with " + n.ToString() + " filters did not compile");
                KernelLog.WriteLine("BENCH filter_change@" + n.ToString() + " " + Changes.ToString() + " " + Tenths(cost, Changes));
            }
        }

        /// <summary>A TCP destination-port filter (ethertype 0x0800, protocol 6, transport offset 2) for owner.</summary>
        private static FilterError Add(PacketFilterSet set, FilterAtom* atoms, uint port, ulong owner, out int id)
        {
            atoms[0] = new FilterAtom { Base = (byte)FilterBase.Frame, Width = 2, Offset = 12, Mask = 0xFFFF, Value = 0x0800 };
            atoms[1] = new FilterAtom { Base = (byte)FilterBase.Frame, Width = 1, Offset = 23, Mask = 0xFF, Value = 6 };
            atoms[2] = new FilterAtom { Base = (byte)FilterBase.Transport, Width = 2, Offset = 2, Mask = 0xFFFF, Value = port };
            return set.Add(owner, new ReadOnlySpan<FilterAtom>(atoms, 3), out id, out _);
        }

        /// <summary>A 64-byte Ethernet + IPv4 (IHL 5) + TCP frame to 'port'.</summary>
        private static void WriteTcpFrame(byte* frame, uint port)
        {
            for (int i = 0; i < 64; i++) frame[i] = 0;
            frame[12] = 0x08; frame[13] = 0x00;  // IPv4
            frame[14] = 0x45;                    // version 4, IHL 5
            frame[23] = 6;                       // TCP
            frame[34] = 0x30; frame[35] = 0x39;  // source port 12345
            frame[36] = (byte)(port >> 8); frame[37] = (byte)port;
        }
    }
}
