// revoke-rude: a libOS that ignores visible revocation. It takes SpareFrames extra frames,
// numbered above every frame it otherwise uses (the abort protocol takes an environment's
// highest-numbered frames), maps them, says it is ready and registers no revocation handler.
// When the kernel's deadline passes, the abort protocol takes frames by force; the app finds
// them in its EnvironmentPage repossession vector, prints them, checks that they were spares,
// and exits with status 0. It never touches the spares again after saying it is ready.
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.RevokeRude
{
    internal static unsafe class Program
    {
        private const int SpareFrames = 8;
        private const int MaximumAttempts = 64;
        private const ulong PatienceTicks = 10000;

        private static int Main()
        {
            ulong* spares = stackalloc ulong[SpareFrames];
            if (!TakeSpares(spares))
            {
                Console.WriteLine("revoke-rude: cannot take " + SpareFrames.ToString() + " frames above those in use");
                return 1;
            }
            ulong region = AddressSpace.Reserve(SpareFrames);
            if (region == 0 || Memory.Map(region, spares, SpareFrames, Memory.ReadWrite) != Error.None)
            {
                Console.WriteLine("revoke-rude: cannot map the spare frames");
                return 1;
            }
            for (int i = 0; i < SpareFrames; i++)
                *(ulong*)(region + (ulong)i * Memory.PageSize) = (ulong)i; // in use
            SayReady(spares);

            // No revocation handler: the request is ignored. Watch the repossession vector.
            ulong giveUp = Info.Ticks + PatienceTicks;
            while (Info.RepossessedCount == 0 && Info.Ticks < giveUp)
                SystemCalls.Yield();
            ulong[] taken = Info.RepossessedFrames();
            if (taken.Length == 0)
            {
                Console.WriteLine("revoke-rude: nothing was repossessed");
                return 1;
            }
            string line = "revoke-rude: repossessed " + taken.Length.ToString() + ":";
            bool allSpare = true;
            for (int i = 0; i < taken.Length; i++)
            {
                line += " " + taken[i].ToString("x");
                bool spare = false;
                for (int j = 0; j < SpareFrames; j++)
                    spare |= spares[j] == taken[i];
                allSpare &= spare;
            }
            Console.WriteLine(line + (allSpare ? " (all spares)" : " (not all spares!)"));
            return allSpare ? 0 : 1;
        }

        /// <summary>Prints the ready line without allocating: a heap that grew now would take frames
        /// numbered above the spares, and the abort protocol would take those instead.</summary>
        private static void SayReady(ulong* spares)
        {
            const string Prefix = "revoke-rude: ready, spare frames";
            byte* line = stackalloc byte[256];
            int length = 0;
            for (int i = 0; i < Prefix.Length; i++)
                line[length++] = (byte)Prefix[i];
            for (int i = 0; i < SpareFrames; i++)
            {
                line[length++] = (byte)' ';
                int digits = 1;
                while (digits < 16 && (spares[i] >> (4 * digits)) != 0)
                    digits++;
                for (int d = digits - 1; d >= 0; d--)
                    line[length++] = (byte)"0123456789abcdef"[(int)((spares[i] >> (4 * d)) & 0xF)];
            }
            line[length++] = (byte)'\n';
            Console.Write(line, length);
        }

        /// <summary>Allocates frames until SpareFrames of them are numbered above every frame mapped in
        /// the regions this libOS uses (image, heap, stacks); the others go back.</summary>
        private static bool TakeSpares(ulong* spares)
        {
            ulong highest = HighestFrameInUse();
            int taken = 0;
            for (int attempt = 0; attempt < MaximumAttempts && taken < SpareFrames; attempt++)
            {
                SystemCallResult frame = SystemCalls.FrameAllocate();
                if (frame.IsError)
                    break;
                if (frame.Value > highest)
                    spares[taken++] = frame.Value;
                else
                    SystemCalls.FrameFree(frame.Value);
            }
            return taken == SpareFrames;
        }

        private static ulong HighestFrameInUse()
        {
            ulong highest = 0;
            for (int region = 0; region <= InheritedRegions.Count; region++)
            {
                ulong start, pages;
                if (region < InheritedRegions.Count)
                    InheritedRegions.Get(region, out start, out pages);
                else
                {
                    start = AddressSpace.UpcallStackBottom;
                    pages = AddressSpace.UpcallStackPages;
                }
                for (ulong i = 0; i < pages; i++)
                {
                    if (Memory.Query(start + i * Memory.PageSize, out PageInfo mapping) == Error.None && mapping.Frame > highest)
                        highest = mapping.Frame;
                }
            }
            return highest;
        }
    }
}
