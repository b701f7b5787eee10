// revoke-mapped-elsewhere: the app owns a frame that another environment maps too (its child,
// an empty stopped environment it granted the frame to and mapped it into), and ignores a
// revocation. The abort protocol takes the frame: every mapping of it must go, the grantee's
// included, and the frame must be free. The frame is the last one the app acquires and the
// highest-numbered one it can get, so the abort protocol takes it whichever order it uses.
// After the repossession the app prints it and waits forever (the kernel judges with the child alive).
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.RevokeMappedElsewhere
{
    internal static unsafe class Program
    {
        /// <summary>Where the frame is mapped in the child (the kernel checks this page).</summary>
        private const ulong ChildAddress = 0x0000_0000_4000_0000;
        private const ulong PatienceTicks = 20000;

        private static int Main()
        {
            SystemCallResult created = SystemCalls.EnvironmentCreate();
            if (created.IsError) return Fail("cannot create the child: " + Errors.Name(created.Error));
            ulong child = created.Value;
            ulong own = AddressSpace.Reserve(1);
            Say("revoke-mapped-elsewhere: taking the frame\n"); // any heap growth of printing happens now
            ulong frame = 0;
            for (ulong candidate = Info.TotalFrames * 2; candidate > 0 && frame == 0; candidate--)
            {
                SystemCallResult taken = SystemCalls.FrameAllocate(candidate);
                if (!taken.IsError) frame = taken.Value;
            }
            if (frame == 0) return Fail("cannot take a frame");
            Error error = SystemCalls.FrameGrant(frame, child, true);
            if (error == Error.None) error = Memory.Map(own, frame, Memory.ReadWrite);
            if (error == Error.None) error = Memory.Map(ChildAddress, frame, Memory.ReadWrite, child);
            if (error != Error.None) return Fail("cannot grant or map the frame: " + Errors.Name(error));
            *(ulong*)own = 0x0123456789abcdef;
            Say("revoke-mapped-elsewhere: ready\n");
            ulong giveUp = Info.Ticks + PatienceTicks;
            while (Info.RepossessedCount == 0 && Info.Ticks < giveUp)
                SystemCalls.Yield();
            SystemCallResult query = SystemCalls.PageQuery(child, ChildAddress);
            Console.WriteLine("revoke-mapped-elsewhere: " + Info.RepossessedCount.ToString() + " repossessed; the child's mapping "
                + (query.Error == Error.NotMapped ? "is gone" : "is still there"));
            for (;;)
                SystemCalls.Wait();
        }

        private static int Fail(string why)
        {
            Console.WriteLine("revoke-mapped-elsewhere: " + why);
            return 1;
        }

        private static void Say(string text)
        {
            byte* line = stackalloc byte[64];
            for (int i = 0; i < text.Length; i++)
                line[i] = (byte)text[i];
            Console.Write(line, text.Length);
        }
    }
}
