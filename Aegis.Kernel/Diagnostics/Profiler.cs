// Tick sampling (kernel argument `profile`): at every timer tick (Clock.TickHz, 1 kHz) the kernel
// writes one line on the serial port,
//     PROF <environment id, hex> <u|k|i> <rip, hex>
// u: the tick interrupted the environment in ring 3; k: in the kernel while it ran (a system
// call, an interrupt); i: the idle loop (environment 0). Under QEMU's -icount shift=0 a tick is
// every million instructions, so the lines are a statistical profile of where the machine's
// instructions go; tools/profile.py attributes them to environments and functions
// (docs/benchmarks.md, "Profiling"). The line is written straight to the UART (no buffer, no
// allocation), so it may land inside another line of the console: the tool skips what it cannot
// parse. Costs nothing when the argument is absent: one test of a static field per tick.
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Diagnostics
{
    internal static unsafe class Profiler
    {
        public static bool Enabled;

        public static void Sample(InterruptFrame* frame)
        {
            Exo.Environment current = Exo.Scheduler.Current;
            char where = frame->FromUserMode ? 'u' : Exo.Scheduler.IsIdle || current == null ? 'i' : 'k';
            ulong id = where == 'i' || current == null ? 0 : current.Id;
            Put('P'); Put('R'); Put('O'); Put('F'); Put(' ');
            Hex(id);
            Put(' '); Put(where); Put(' ');
            Hex(frame->Rip);
            Put('\n');
        }

        private static void Put(char c) => SerialPort.Write((byte)c);

        private static void Hex(ulong value)
        {
            int shift = 60;
            while (shift > 0 && (value >> shift) == 0) shift -= 4;
            for (; shift >= 0; shift -= 4)
            {
                int digit = (int)(value >> shift) & 0xF;
                Put((char)(digit < 10 ? '0' + digit : 'a' + digit - 10));
            }
        }
    }
}
