// exhaust-kernel-heap: the attack of issue #7 "kernel memory is exhausted from user space".
// It takes every frame it can get (FrameAllocate until it fails), gives 31 back (room for a
// child at a time), then hammers the calls that
// used to allocate kernel heap on every use: Debug, ImageSpawn of a name no image has,
// EnvironmentCreate + EnvironmentDestroy, CapabilityCopy, SliceAllocate + SliceFree,
// FrameGrant to its own children. It prints nothing after draining (its own heap may be
// empty too) and exits 0. The kernel judges: its heap did not grow and made no allocation
// while the app hammered, the kernel still runs, every frame is accounted for.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.ExhaustKernelHeap
{
    internal static unsafe class Program
    {
        private const int Rounds = 4000;

        private static int Main()
        {
            Console.WriteLine("exhaust-kernel-heap: draining frames, then " + Rounds.ToString() + " rounds of calls");
            byte* missing = stackalloc byte[20];
            const string name = "no-such-image-at-all";
            for (int i = 0; i < name.Length; i++) missing[i] = (byte)name[i];
            byte* argument = stackalloc byte[8];
            ulong drained = 0, firstFrame = 0;
            const int Kept = 32;
            ulong* last = stackalloc ulong[Kept];
            while (true)
            {
                SystemCallResult frame = SystemCalls.FrameAllocate();
                if (frame.IsError) break;
                if (drained == 0) firstFrame = frame.Value;
                last[drained % Kept] = frame.Value;
                drained++;
            }
            // Give a few back, so that creating a child (a few frames) succeeds and is undone
            // again and again, with every other frame still taken.
            for (int i = 1; i < Kept && (ulong)i < drained; i++)
                SystemCalls.FrameFree(last[(drained - (ulong)i) % Kept]);
            for (int round = 0; round < Rounds; round++)
            {
                SystemCalls.Debug((ulong)round);
                SystemCalls.ImageSpawn(missing, (ulong)name.Length, argument, 8);
                SystemCallResult child = SystemCalls.EnvironmentCreate();
                if (!child.IsError)
                {
                    SystemCalls.CapabilityCopy(CapabilitySlots.Console, child.Value);
                    if (drained > 0) SystemCalls.FrameGrant(firstFrame, child.Value, true);
                    SystemCalls.EnvironmentDestroy(child.Value);
                }
                SystemCallResult slice = SystemCalls.SliceAllocate();
                if (!slice.IsError) SystemCalls.SliceFree(slice.Value);
                SystemCalls.ImageSpawn(missing, 0, argument, 0);
                SystemCalls.ImageSpawn(missing, 65, argument, 0);
            }
            return 0;
        }
    }
}
