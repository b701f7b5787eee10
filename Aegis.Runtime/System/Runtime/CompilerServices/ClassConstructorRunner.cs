// Runs a class constructor the first time its type's statics are touched, for the types
// ILC could not preinitialise at build time. ILC calls these helpers by name.
// States of context.cctorMethodAddress: the cctor's address (not run), 1 (running), 0 (done).
// The kernel is single-threaded here, so "running" seen again means recursion from inside the
// cctor itself; like .NET on one thread, that caller proceeds with the statics as they are.
namespace System.Runtime.CompilerServices
{
    internal static unsafe class ClassConstructorRunner
    {
        private static object CheckStaticClassConstructionReturnGCStaticBase(ref StaticClassConstructionContext context, object gcStaticBase)
        {
            CheckStaticClassConstruction(ref context);
            return gcStaticBase;
        }

        private static IntPtr CheckStaticClassConstructionReturnNonGCStaticBase(ref StaticClassConstructionContext context, IntPtr nonGcStaticBase)
        {
            CheckStaticClassConstruction(ref context);
            return nonGcStaticBase;
        }

        private static IntPtr CheckStaticClassConstructionReturnThreadStaticBase(ref StaticClassConstructionContext context, IntPtr threadStaticBase)
        {
            CheckStaticClassConstruction(ref context);
            return threadStaticBase;
        }

        private static void CheckStaticClassConstruction(ref StaticClassConstructionContext context)
        {
            IntPtr state = context.cctorMethodAddress;
            if (state == (IntPtr)0 || state == (IntPtr)1)
                return;
            context.cctorMethodAddress = (IntPtr)1;
            ((delegate*<void>)state)();
            context.cctorMethodAddress = (IntPtr)0;
        }
    }

    public struct StaticClassConstructionContext
    {
        public volatile IntPtr cctorMethodAddress;
    }
}
