// destroy-huge: an environment that ends holding a lot of memory. It takes Frames (16,000)
// frames, maps them all, and exits: returning its memory must not keep interrupts off for long
// (the kernel tears a large environment down a tick's share at a time). The kernel judges from
// its teardown and tick-gap counters that the work was cut up, and that every frame came back.
using Aegis.Abi;
using Aegis.Apps.Shared;
using Aegis.LibOS;

namespace Aegis.Apps.DestroyHuge
{
    internal static unsafe class Program
    {
        private const int Frames = 16000;

        private static int Main()
        {
            string problem = HugeMapping.TakeAndMap(Frames); // ../Shared/HugeMapping.cs
            if (problem != null)
                return Fail(problem);
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
