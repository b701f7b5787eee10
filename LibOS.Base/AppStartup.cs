// The life of an app, in order (Native/libos.S's _start drives it):
//   1. Start (aegis_libos_start): the runtime gets its first heap region (in the image's .bss)
//      and runs the module start-up; thread-local storage and the FS base; the heap grower, the
//      failure handler and type names; the upcall stack and trampoline are registered; the
//      collector learns the two stacks (initial and upcall) and how to give pages back;
//   2. the app's static Main (ILC's __managed__Main wrapper calls it);
//   3. Exit (aegis_libos_exit): the Exit system call with Main's return value.
// Until step 1 has set up the statics, nothing may touch a static field of reference type.
using System.Runtime.InteropServices;
using Aegis.Abi;
using Internal.Runtime;

namespace Aegis.LibOS
{
    public static unsafe class AppStartup
    {
        [UnmanagedCallersOnly(EntryPoint = "aegis_libos_start")]
        private static void Start()
        {
            byte* heapStart = ImageSymbols.InitialHeapStart();
            RuntimeHost.AddHeapRegion((nint)heapStart, (nuint)(ImageSymbols.InitialHeapEnd() - heapStart));
            RuntimeHost.SetFailureHandler(&StartupFailure);
            // The grower before anything allocates: start-up may need more blocks than the first
            // region holds (one per size class it touches). UserHeap.Grow uses no managed statics
            // that need start-up (constants and preinitialised fields only) and allocates nothing.
            RuntimeHost.SetHeapGrower(&UserHeap.Grow);
            string error = RuntimeHost.InitializeModules(ImageSymbols.ModulesStart(), ImageSymbols.ModulesEnd());
            if (error != null)
                Fail("the image is broken: " + error);

            nint threadPointer = RuntimeHost.CreateThreadLocalStorage(ImageSymbols.TdataStart(), ImageSymbols.TdataEnd(), ImageSymbols.TbssEnd());
            Error fsError = SystemCalls.SetFsBase((ulong)threadPointer);
            if (fsError != Error.None)
                Fail("SetFsBase failed: " + Errors.Name(fsError));

            RuntimeHost.SetTypeNameResolver(&TypeNames.Resolve);
            RuntimeHost.SetFailureHandler(&UnhandledException);

            Error upcallError = Upcalls.Install();
            if (upcallError != Error.None)
                Fail("cannot set up the upcall stack and entry: " + Errors.Name(upcallError));

            // The collector: both stacks managed code runs on (mapped whole, for good; the upcall
            // stack holds live frames only while an upcall runs on it, and main cannot run then),
            // and the heap's pages go back to the kernel when the collector frees whole blocks.
            ulong mainStackBottom = UserAddresses.InitialStackTop - (ulong)UserAddresses.InitialStackPages * UserAddresses.PageSize;
            ulong mainStackTop = UserAddresses.InitialStackTop, upcallBottom = AddressSpace.UpcallStackBottom, upcallTop = AddressSpace.UpcallStackTop;
            RuntimeHost.RegisterStack((nint)mainStackBottom, (nint)mainStackTop);
            RuntimeHost.RegisterStack((nint)upcallBottom, (nint)upcallTop, onlyWhenCurrent: true);
            RuntimeHost.SetHeapReleaser(&UserHeap.Release, &UserHeap.Recommit);
            RuntimeHost.SetHeapReserver(&UserHeap.Reserve);
        }

        [UnmanagedCallersOnly(EntryPoint = "aegis_libos_exit")]
        private static void Exit(int status) => SystemCalls.Exit((ulong)(uint)status);

        /// <summary>The runtime's failure hook once the libOS is up: an exception nothing catches
        /// ends the environment with a one-line report.</summary>
        private static void UnhandledException(object exception, string typeName, string message)
        {
            Console.WriteLine(Info.ImageName + ": unhandled " + typeName + ": " + message);
            // The kernel adds its report: the type (from the MethodTable, the object's first word)
            // and the stack trace, symbolized with this image's symbol file.
            nint methodTable = exception == null ? 0 : **(nint**)System.Runtime.CompilerServices.Unsafe.AsPointer(ref exception);
            SystemCalls.Exit(ExitStatus.UnhandledException, ExitCrash.ManagedException, (ulong)methodTable);
        }

        private static void StartupFailure(object exception, string typeName, string message)
            => Fail("start-up failed: " + typeName + ": " + message);

        private static void Fail(string what)
        {
            Console.WriteLine(Info.ImageName + ": " + what);
            SystemCalls.Exit(ExitStatus.StartupFailed);
        }
    }
}
