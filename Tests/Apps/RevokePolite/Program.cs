// revoke-polite: a libOS that complies with visible revocation. It takes SpareFrames extra
// frames (mapped, so they are really in use), registers a revocation handler, says it is ready
// and waits. When the kernel asks for N frames back by a deadline, the handler gives back N of
// the spares with FrameFree; the app reports how many it released and exits with status 0.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.RevokePolite
{
    internal static unsafe class Program
    {
        private const int SpareFrames = 8;
        private const ulong PatienceTicks = 10000;

        private static readonly ulong[] s_spares = new ulong[SpareFrames];
        private static int s_sparesLeft;
        private static ulong s_released;
        private static bool s_asked;

        private static int Main()
        {
            ulong region = AddressSpace.Reserve(SpareFrames);
            if (region == 0 || Memory.AllocateAndMap(region, SpareFrames, Memory.ReadWrite) != Error.None)
            {
                Console.WriteLine("revoke-polite: cannot map " + SpareFrames.ToString() + " spare frames");
                return 1;
            }
            for (int i = 0; i < SpareFrames; i++)
            {
                ulong page = region + (ulong)i * Memory.PageSize;
                Memory.Query(page, out PageInfo mapping);
                s_spares[i] = mapping.Frame;
                *(ulong*)page = (ulong)i; // in use
            }
            s_sparesLeft = SpareFrames;
            Upcalls.SetRevocationHandler(OnRevocation);
            Console.WriteLine("revoke-polite: ready, " + SpareFrames.ToString() + " spare frames");

            // The handler runs in an upcall; the main line only watches for it (yielding, so a
            // request that arrives at any point is seen).
            ulong giveUp = Info.Ticks + PatienceTicks;
            while (!s_asked && Info.Ticks < giveUp)
                SystemCalls.Yield();
            if (!s_asked)
            {
                Console.WriteLine("revoke-polite: no revocation request came");
                return 1;
            }
            Console.WriteLine("revoke-polite: released " + s_released.ToString());
            return 0;
        }

        /// <summary>Gives back frameCount of the spare frames (FrameFree also unmaps them).</summary>
        private static void OnRevocation(ulong frameCount, ulong deadlineTick)
        {
            while (s_released < frameCount && s_sparesLeft > 0)
            {
                s_sparesLeft--;
                if (SystemCalls.FrameFree(s_spares[s_sparesLeft]) == Error.None)
                    s_released++;
            }
            s_asked = true;
        }
    }
}
