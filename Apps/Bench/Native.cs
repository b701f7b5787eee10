// The benchmark's assembly pieces (Native/bench.S), as C# sees them.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Aegis.Apps.Bench
{
    internal static unsafe class Native
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;

        /// <summary>The time stamp counter (under -icount shift=0: instructions executed).</summary>
        [MethodImpl(Import), RuntimeImport("*", "bench_rdtsc")] public static extern ulong Rdtsc();

        /// <summary>One int3 (the breakpoint handler resumes after it).</summary>
        [MethodImpl(Import), RuntimeImport("*", "bench_int3")] public static extern void Int3();

        /// <summary>Reads *address; when that faults, the handler resumes at ReadResume().</summary>
        [MethodImpl(Import), RuntimeImport("*", "bench_read")] public static extern ulong Read(ulong* address);

        /// <summary>count raw Null system calls (count &gt; 0).</summary>
        [MethodImpl(Import), RuntimeImport("*", "bench_syscall_loop")] public static extern void SyscallLoop(ulong count);

        /// <summary>count int3s in a loop (count &gt; 0).</summary>
        [MethodImpl(Import), RuntimeImport("*", "bench_int3_loop")] public static extern void Int3Loop(ulong count);

        /// <summary>count calls of bench_read(address) in a loop (count &gt; 0).</summary>
        [MethodImpl(Import), RuntimeImport("*", "bench_read_loop")] public static extern void ReadLoop(ulong* address, ulong count);

        /// <summary>Empty markers around one traced operation (./aegis bench --trace).</summary>
        [MethodImpl(Import), RuntimeImport("*", "bench_trace_begin")] public static extern void TraceBegin(ulong id);
        [MethodImpl(Import), RuntimeImport("*", "bench_trace_end")] public static extern void TraceEnd();

        /// <summary>count system calls with number 39 (a Linux number), each a system-call upcall (count &gt; 0).</summary>
        [MethodImpl(Import), RuntimeImport("*", "bench_syscall_upcall_loop")] public static extern void SyscallUpcallLoop(ulong count);
        [MethodImpl(Import), RuntimeImport("*", "bench_symbol_syscall_upcall_entry")] public static extern ulong SyscallUpcallEntry();

        [MethodImpl(Import), RuntimeImport("*", "bench_symbol_raw_upcall_entry")] public static extern ulong RawUpcallEntry();
        [MethodImpl(Import), RuntimeImport("*", "bench_symbol_echo_entry")] public static extern ulong EchoEntry();
        [MethodImpl(Import), RuntimeImport("*", "bench_symbol_read_resume")] public static extern ulong ReadResume();
    }
}
