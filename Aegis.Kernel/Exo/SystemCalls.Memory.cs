// System calls on memory: frames (allocate, free, grant) and mappings (map, protect, query,
// clean). Each checks everything before it changes anything (see SystemCalls.cs).
using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Diagnostics;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class SystemCalls
    {
        private static ulong FrameAllocate(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
        {
            // Environments.AllocateFrame checks the account and the reserve before it takes anything.
            Error error = Environments.AllocateFrame(Scheduler.Current, a0, out ulong frameNumber);
            return error == Error.None ? Ok(frameNumber) : Fail(error);
        }

        private static ulong FrameFree(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
            => ErrorResult(Environments.FreeFrame(Scheduler.Current, a0));

        private static ulong FrameGrant(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => FrameGrant(Scheduler.Current, a0, a1, a2);
        private static ulong PageMap(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageMap(Scheduler.Current, a0, a1, a2);
        private static ulong PageProtect(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageProtect(Scheduler.Current, a0, a1, a2, a3);
        private static ulong PageQuery(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageQuery(Scheduler.Current, a0, a1);
        private static ulong PageClean(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageClean(Scheduler.Current, a0, a1);
        // Fast fork (Exo/UserPageTables.Sharing.cs).
        private static ulong PageShare(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
            => UserPageTables.PageShare(Scheduler.Current, a0, a1, a2, a3, a4, a5);
        private static ulong PageInherit(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
            => UserPageTables.PageInherit(Scheduler.Current, a0, a1);
        private static ulong PageAllocate(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
            => UserPageTables.PageAllocate(Scheduler.Current, a0, a1, a2);
        private static ulong PageAlias(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
            => UserPageTables.PageAlias(Scheduler.Current, a0, a1, a2, a3);
        private static ulong CopyOnWriteMark(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
        {
            Error error = ResolveEnvironment(Scheduler.Current, a0, out Environment target);
            return error != Error.None ? Fail(error) : UserPageTables.SetCopyOnWriteMark(target, a1, a2);
        }

        private static ulong FrameGrant(Environment caller, ulong frameNumber, ulong slot, ulong writable)
        {
            if (writable > 1) return Fail(Error.InvalidArgument);
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (frameNumber >= KernelMemory.Frames.FrameLimit) return Fail(Error.InvalidArgument);
            // A new grant is charged to the caller's account (re-granting only changes the rights).
            if (target.Id != caller.Id && !Environments.Ledger.IsGrantedTo(frameNumber, target.Id, out _))
            {
                error = Accounts.CheckGrant(caller);
                if (error != Error.None) return Fail(error);
            }
            return ErrorResult(Environments.Ledger.Grant(frameNumber, caller.Id, target.Id, writable == 1, caller.Account == null ? 0 : caller.Account.Index));
        }

        // The mapping calls are implemented by the one writer of user page tables (Exo/UserPageTables.cs).
        private static ulong PageMap(Environment caller, ulong slot, ulong address, ulong count)
            => UserPageTables.PageMap(caller, slot, address, count);

        private static ulong PageProtect(Environment caller, ulong slot, ulong address, ulong pageCount, ulong permissions)
            => UserPageTables.PageProtect(caller, slot, address, pageCount, permissions);

        private static ulong PageQuery(Environment caller, ulong slot, ulong address)
            => UserPageTables.PageQuery(caller, slot, address);

        private static ulong PageClean(Environment caller, ulong slot, ulong address)
            => UserPageTables.PageClean(caller, slot, address);
    }
}
