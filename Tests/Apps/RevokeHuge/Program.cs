// revoke-huge: a large forced revocation. The app takes Frames (16,000) frames, maps them all, says
// it is ready and registers no revocation handler; the kernel then asks for all 16,000 back and the
// abort protocol takes them by force. The kernel judges that it did so in bounded pieces (a bystander
// keeps running, the longest gap between timer ticks stays under the stated bound) and that every
// frame came back. The app waits for its repossession count to reach Frames, then exits 0.
// Nothing is allocated after the ready line: the abort protocol takes the frames acquired last.
using Aegis.Abi;
using Aegis.Apps.Shared;
using Aegis.LibOS;

namespace Aegis.Apps.RevokeHuge
{
    internal static unsafe class Program
    {
        private const int Frames = 16000;
        private const ulong PatienceTicks = 60000;

        private static int Main()
        {
            string problem = HugeMapping.TakeAndMap(Frames); // ../Shared/HugeMapping.cs
            if (problem != null)
                return Fail(problem);
            Say("revoke-huge: ready\n");
            ulong giveUp = Info.Ticks + PatienceTicks;
            while (Info.RepossessedCount < Frames && Info.Ticks < giveUp)
                SystemCalls.Yield();
            ulong taken = Info.RepossessedCount;
            Console.WriteLine("revoke-huge: repossessed " + taken.ToString());
            return taken == Frames ? 0 : 1;
        }

        private static int Fail(string why)
        {
            Console.WriteLine("revoke-huge: " + why);
            return 1;
        }

        /// <summary>Writes a literal without allocating (a heap that grew now would take new frames).</summary>
        private static void Say(string text)
        {
            byte* line = stackalloc byte[64];
            for (int i = 0; i < text.Length; i++)
                line[i] = (byte)text[i];
            Console.Write(line, text.Length);
        }
    }
}
