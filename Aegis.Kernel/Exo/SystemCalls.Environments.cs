// System calls on environments and their time: exit, yield, wait, create, spawn, destroy,
// start, stop, upcall registration, status, the thread pointer, time slices. A child is paid
// for by its creator's account (Exo/Accounts.cs); the slot for the child's capability is
// checked before the child is made. Each checks everything before it changes anything.
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
        /// <summary>(status, crash, methodTable): the crash report first when crash says so
        /// (AppCrashReport).</summary>
        private static ulong Exit(Environment caller, InterruptFrame* frame)
        {
            AppCrashReport.FromExit(caller, frame, frame->Rsi, frame->Rdx);
            Scheduler.Save(caller, frame, false);
            Environments.Destroy(caller, EnvironmentState.Exited, DestroyReason.None, frame->Rdi, null);
            Scheduler.LeaveToLoop();
            return Ok();
        }

        private static ulong Yield(Environment caller, InterruptFrame* frame) => Yield(caller, frame, frame->Rdi);

        /// <summary>Wait and WaitUntil: a pending wakeup, a kept message, a child's end, a deadline
        /// (Exo/Notifications.cs).</summary>
        private static ulong Wait(Environment caller, InterruptFrame* frame) => Notifications.Wait(caller, frame, 0);

        /// <summary>(deadline): deadline 0 has passed (WaitResult.DeadlinePassed unless something is pending).</summary>
        private static ulong WaitUntil(Environment caller, InterruptFrame* frame)
            => Notifications.Wait(caller, frame, frame->Rdi == 0 ? 1 : frame->Rdi);

        private static ulong NotifyControl(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => Notifications.Control(Scheduler.Current, a0);

        private static ulong EnvironmentCreate(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => EnvironmentCreate(Scheduler.Current);
        private static ulong ImageSpawn(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => ImageSpawn(Scheduler.Current, a0, a1, a2, a3);
        private static ulong EnvironmentDestroy(Environment caller, InterruptFrame* frame) => EnvironmentDestroy(caller, frame, frame->Rdi);
        private static ulong EnvironmentStart(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => EnvironmentStart(Scheduler.Current, a0, a1, a2, a3);
        private static ulong EnvironmentStop(Environment caller, InterruptFrame* frame) => EnvironmentStop(caller, frame, frame->Rdi);
        private static ulong EnvironmentSetUpcall(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => EnvironmentSetUpcall(Scheduler.Current, a0, a1, a2, a3);
        private static ulong EnvironmentStatus(Environment caller, InterruptFrame* frame) => EnvironmentStatus(caller, frame, frame->Rdi);
        private static ulong SetFsBase(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => SetFsBase(Scheduler.Current, a0);

        private static ulong SliceAllocate(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
        {
            Environment caller = Scheduler.Current;
            Error error = Accounts.CheckSlice(caller);
            if (error != Error.None) return Fail(error);
            error = Environments.Slices.Allocate(caller.Id, a0, out int index);
            return error == Error.None ? Ok((ulong)index) : Fail(error);
        }

        private static ulong SliceFree(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
            => ErrorResult(Environments.Slices.Free(Scheduler.Current.Id, a0));

        private static ulong SetFsBase(Environment caller, ulong address)
        {
            if (!UserMemory.IsUserRange(address, 0)) return Fail(Error.BadAddress);
            caller.FsBase = address;
            Cpu.WriteFsBase(address);
            return Ok();
        }

        private static ulong Yield(Environment caller, InterruptFrame* frame, ulong targetId)
        {
            if (targetId != 0)
            {
                Environment target = Environments.Find(targetId);
                if (target == null || !target.IsRunnable) return Fail(Error.BadEnvironment);
                Scheduler.DirectTo(target);
            }
            frame->Rax = 0;
            Scheduler.Save(caller, frame, false);
            caller.State = EnvironmentState.Runnable;
            Scheduler.LeaveToLoop();
            return Ok();
        }

        private static ulong EnvironmentCreate(Environment caller)
        {
            // Check: a slot for the child's capability (the account and the table are checked by Create).
            if (!caller.Capabilities.HasFreeSlot()) return Fail(Error.NoMemory);
            // Perform. The child has its creator's name (it is usually its copy) and joins its account.
            Error error = Environments.Create(caller.Id, caller.Name, caller.Account, out Environment child);
            if (error != Error.None) return Fail(error);
            caller.Capabilities.TryInsert(CapabilityKind.Environment, child.Id, out ulong slot);
            // A created child starts as the caller's copy would: with the caller's thread pointer
            // (FS base, the live value: ring 3 may have changed it with wrfsbase) and GS base, so a
            // libOS that copies its memory (fork) finds its TLS in place. Its system-call upcalls
            // start off (SystemCallUpcalls): the child's libOS turns them on.
            // (A fast-path handler runs inside the entry's swapgs window: the program's GS base is in
            // KERNEL_GS_BASE then, the GS base register holds the per-CPU block.)
            child.FsBase = Cpu.ReadFsBase();
            child.GsBase = Cpu.ReadProgramGsBaseInFastPath();
            return Ok(slot);
        }

        private static readonly byte[] s_spawnName = new byte[SpawnNameLimit];
        private static readonly byte[] s_spawnArgument = new byte[SpawnArgumentLimit];
        private const int SpawnNameLimit = 64;
        private const int SpawnArgumentLimit = 255;

        private static ulong ImageSpawn(Environment caller, ulong nameAddress, ulong nameLength, ulong argumentAddress, ulong argumentLength)
        {
            // Check everything first, with no writes but to the static buffers: the name is read
            // into a fixed buffer and compared byte by byte with the images' names (no string is made).
            if (nameLength == 0 || nameLength > SpawnNameLimit || argumentLength > SpawnArgumentLimit) return Fail(Error.InvalidArgument);
            System.Span<byte> name = new System.Span<byte>(s_spawnName, 0, (int)nameLength);
            if (!UserMemory.IsUserRange(nameAddress, nameLength) || !UserMemory.TryRead(caller, nameAddress, name)) return Fail(Error.BadAddress);
            System.Span<byte> argument = new System.Span<byte>(s_spawnArgument, 0, (int)argumentLength);
            if (argumentLength > 0 && (!UserMemory.IsUserRange(argumentAddress, argumentLength) || !UserMemory.TryRead(caller, argumentAddress, argument)))
                return Fail(Error.BadAddress);
            int index = BootImages.IndexOf(name);
            if (index < 0) return Fail(Error.NoSuchImage);
            if (!caller.Capabilities.HasFreeSlot()) return Fail(Error.NoMemory);
            // Perform.
            Error error = BootImages.Spawn(caller.Id, index, argument, caller.Account, out Environment child, out string problem);
            if (error != Error.None)
            {
                KernelLog.Write("aegis: ");
                LogText.WriteEnvironment(caller);
                KernelLog.Write(" could not spawn '");
                KernelLog.Write(BootImages.NameAt(index));
                KernelLog.Write("': ");
                KernelLog.WriteLine(problem);
                return Fail(error);
            }
            caller.Capabilities.TryInsert(CapabilityKind.Environment, child.Id, out ulong slot);
            return Ok(slot);
        }

        private static ulong EnvironmentDestroy(Environment caller, InterruptFrame* frame, ulong slot)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error == Error.BadEnvironment)
            {
                // The environment already ended: destroying it again just drops the capability.
                caller.Capabilities.Remove(slot);
                return Ok();
            }
            if (error != Error.None) return Fail(error);
            if (target == caller)
            {
                Scheduler.Save(caller, frame, false);
                Environments.Destroy(caller, EnvironmentState.Destroyed, DestroyReason.ByCapability, 0, null);
                Scheduler.LeaveToLoop();
            }
            // Recorded in its end report, not logged: reaping a child is ordinary (issue #9).
            Environments.Destroy(target, EnvironmentState.Destroyed, DestroyReason.ByCapability, 0,
                "destroyed by its capability holder", caller);
            if (!caller.IsAlive)
                Scheduler.LeaveToLoop(); // the caller descended from the target: it ended with it
            caller.Capabilities.Remove(slot);
            return Ok();
        }

        private static ulong EnvironmentStart(Environment caller, ulong slot, ulong rip, ulong rsp, ulong rdi)
        {
            if (slot == CapabilitySlots.Self) return Fail(Error.InvalidArgument);
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (target.State != EnvironmentState.Stopped) return Fail(Error.BadEnvironment);
            // rip 0: resume the saved registers exactly (rsp and rdi must be 0 then: nothing is ignored).
            if (rip == 0 && (rsp != 0 || rdi != 0)) return Fail(Error.InvalidArgument);
            if (rip != 0 && !UserMemory.IsUserRange(rip, 1)) return Fail(Error.BadAddress);
            if (rsp != 0 && !UserMemory.IsUserRange(rsp, 0)) return Fail(Error.BadAddress);
            error = Accounts.CheckSlice(target);
            if (error != Error.None) return Fail(error);
            error = Environments.Slices.Allocate(target.Id, SystemCallLimits.AnySlice, out _);
            if (error != Error.None) return Fail(error);
            if (rip != 0)
            {
                target.Frame->Rip = rip;
                target.Frame->Rdi = rdi;
                if (rsp != 0) target.Frame->Rsp = rsp;
            }
            target.State = EnvironmentState.Runnable;
            return Ok();
        }

        private static ulong EnvironmentStop(Environment caller, InterruptFrame* frame, ulong slot)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (target.State == EnvironmentState.Stopped) return Ok();
            if (target.State == EnvironmentState.Blocked) return Fail(Error.WouldBlock);
            Environments.Slices.ReleaseAll(target.Id);
            if (target == caller)
            {
                frame->Rax = 0;
                Scheduler.Save(caller, frame, false);
                caller.State = EnvironmentState.Stopped;
                Scheduler.LeaveToLoop();
            }
            target.State = EnvironmentState.Stopped;
            return Ok();
        }

        private static ulong EnvironmentSetUpcall(Environment caller, ulong slot, ulong entry, ulong stackTop, ulong stackPages)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            // The ranges here; whether they are mapped is checked again at each delivery.
            error = Upcalls.Validate(entry, stackTop, stackPages, out int pages);
            if (error != Error.None) return Fail(error);
            target.UpcallEntry = entry;
            target.UpcallStackTop = stackTop;
            target.MappingGeneration++;
            target.UpcallStackPages = pages;
            SystemCallUpcalls.OnUpcallStackChanged(target); // the system-call upcall's frame follows the stack
            return Ok();
        }

        /// <summary>EnvironmentAlive(id): 1 or 0; no capability (an IpcSend tells as much), no error.</summary>
        private static ulong EnvironmentAlive(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
            => Ok(Environments.IsAliveId(a0) ? 1UL : 0UL);

        private static ulong EnvironmentStatus(Environment caller, InterruptFrame* frame, ulong slot)
        {
            ulong id;
            if (slot == CapabilitySlots.Self) id = caller.Id;
            else
            {
                Error error = caller.Capabilities.Lookup(slot, CapabilityKind.Environment, out id);
                if (error != Error.None)
                    return Fail(error);
            }
            // Works after the end too: the exit status (Exited) or the destroy reason stays readable.
            if (!Environments.TryGetStatus(id, out EnvironmentState state, out ulong status))
                return Fail(Error.BadEnvironment);
            frame->Rdx = status;
            return Ok((ulong)state);
        }
    }
}
