// Deliberate failures selected by the kernel argument crash=KIND, so tests can prove that each
// kind of failure produces a proper panic report (and never a hang or a reboot loop).
using System.Runtime.CompilerServices;

namespace Aegis.Kernel.Diagnostics
{
    internal static class DeliberateCrash
    {
        public static readonly string[] Kinds = { "null", "stackoverflow", "divzero", "cast", "bounds", "throw", "assert", "oom", "oom-panic", "syscall-throw" };

        public static bool Run(string kind)
        {
            switch (kind)
            {
                case "null": DereferenceNull(null); return true;
                case "stackoverflow": OverflowStack(1); return true;
                case "divzero": DivideByZero(0); return true;
                case "cast": FailCast(new object()); return true;
                case "bounds": IndexOutOfBounds(new int[3], 3); return true;
                case "throw": ThrowException(); return true;
                case "assert": KernelAssert.That(1 + 1 == 3, "deliberate failed assertion (crash=assert)"); return true;
                case "oom": ExhaustMemory(); return true;
                case "oom-panic": PanicWithoutMemory(); return true;
                // Boot goes on; the first ConsoleWrite system call (init's first output) throws out
                // of its handler: the kernel must panic naming the handler (docs/kernel.md).
                case "syscall-throw": Exo.SystemCalls.ThrowInConsoleWrite = true; return true;
                default: return false;
            }
        }

        private sealed class Node
        {
            public int Value;
            public Node Next;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int DereferenceNull(Node node) => node.Value + 1;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int OverflowStack(int depth)
        {
            // A frame with real content, and a use of the result after the call, so the
            // compiler can turn neither into a loop.
            System.Span<int> local = stackalloc int[16];
            local[depth & 15] = depth;
            return OverflowStack(depth + 1) + local[(depth + 1) & 15];
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int DivideByZero(int divisor) => 100 / divisor;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string FailCast(object value) => ((string)value).Length.ToString();

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int IndexOutOfBounds(int[] array, int index) => array[index];

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowException() => throw new System.InvalidOperationException("deliberate exception (crash=throw)");

        /// <summary>Leaves the kernel heap with no byte to give and no frame to grow by, then
        /// allocates: the out-of-memory panic must still print its whole report (it allocates
        /// nothing) and stop the machine with the panic status, not fault its way to a reset.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void PanicWithoutMemory()
        {
            // No frame left for the heap to grow by (the reserve included)...
            Core.FrameAllocator frames = Hal.KernelMemory.Frames;
            while (frames.TryAllocate(out _)) { }
            // ...then small live objects until the heap (its free blocks and free cells; collecting
            // frees nothing, every node is reachable) has no byte left: the next allocation fails inside.
            KernelLog.WriteLine("crash=oom-panic: no free frame, the heap is full; allocating");
            Node node = new Node();
            node.Value = 0;
            while (true)
            {
                Node next = new Node();
                next.Next = node;
                node = next;
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ExhaustMemory()
        {
            System.Collections.Generic.List<byte[]> hoard = new System.Collections.Generic.List<byte[]>();
            while (true)
                hoard.Add(new byte[16 * 1024 * 1024]);
        }
    }

    public static class KernelAssert
    {
        public static void That(bool condition, string message)
        {
            if (!condition)
                Panic.Fail("assertion failed", message);
        }
    }
}
