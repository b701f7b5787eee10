// destroy-huge: an environment that ends holding a lot of memory. It takes Frames (16,000)
// frames, maps them all, and exits: returning its memory must not keep interrupts off for long
// (the kernel tears a large environment down a tick's share at a time). The kernel judges from
// its teardown and tick-gap counters that the work was cut up, and that every frame came back.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.DestroyHuge
{
    internal static unsafe class Program
    {
        private const int Frames = 16000;

        private static int Main()
        {
            ulong[] frames = new ulong[Frames];
            ulong region = AddressSpace.Reserve(Frames);
            if (region == 0)
                return Fail("cannot reserve the address range");
            for (int i = 0; i < Frames; i++)
            {
                SystemCallResult frame = SystemCalls.FrameAllocate();
                if (frame.IsError)
                    return Fail("cannot take frame " + i.ToString() + ": " + Errors.Name(frame.Error));
                frames[i] = frame.Value;
            }
            fixed (ulong* list = frames)
            {
                Error error = Memory.Map(region, list, Frames, Memory.ReadWrite);
                if (error != Error.None)
                    return Fail("cannot map the frames: " + Errors.Name(error));
            }
            Console.WriteLine("destroy-huge: holding " + Frames.ToString() + " frames; exiting");
            return 0;
        }

        private static int Fail(string why)
        {
            Console.WriteLine("destroy-huge: " + why);
            return 1;
        }
    }
}
