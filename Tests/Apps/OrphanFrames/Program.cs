// orphan-frames: the owner maps one of its frames into a child it created (an empty, stopped
// environment) and into itself, then frees the frame. Freeing must remove every mapping of it,
// the child's included, and the frame must go back to the free pool. The app prints
// "orphan-frames: freed" and then waits forever, so that the kernel judges with the child alive.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.OrphanFrames
{
    internal static unsafe class Program
    {
        /// <summary>Where the frame is mapped in the child (the kernel checks this page).</summary>
        private const ulong ChildAddress = 0x0000_0000_4000_0000;

        private static int Main()
        {
            SystemCallResult created = SystemCalls.EnvironmentCreate();
            if (created.IsError) return Fail("cannot create the child: " + Errors.Name(created.Error));
            ulong child = created.Value;
            SystemCallResult frame = SystemCalls.FrameAllocate();
            if (frame.IsError) return Fail("cannot take a frame: " + Errors.Name(frame.Error));
            ulong own = AddressSpace.Reserve(1);
            Error error = Memory.Map(own, frame.Value, Memory.ReadWrite);
            if (error == Error.None) error = Memory.Map(ChildAddress, frame.Value, Memory.ReadWrite, child);
            if (error != Error.None) return Fail("cannot map the frame: " + Errors.Name(error));
            *(ulong*)own = 0x0123456789abcdef;
            error = SystemCalls.FrameFree(frame.Value);
            if (error != Error.None) return Fail("FrameFree failed: " + Errors.Name(error));
            SystemCallResult query = SystemCalls.PageQuery(child, ChildAddress);
            Console.WriteLine("orphan-frames: freed frame " + frame.Value.ToString("x") + "; the child's mapping "
                + (query.Error == Error.NotMapped ? "is gone" : "is still there"));
            for (;;)
                SystemCalls.Wait();
        }

        private static int Fail(string why)
        {
            Console.WriteLine("orphan-frames: " + why);
            return 1;
        }
    }
}
