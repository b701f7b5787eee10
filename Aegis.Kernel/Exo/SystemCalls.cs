// The system calls (Aegis.Abi/SystemCall.cs; docs/abi.md). Each handler is
// validate -> act -> return: every argument is checked before anything changes, and a failing
// call leaves no partial effect. Results go back in RAX (and RDX); errors are negative.
// Handlers that block, switch or end the caller leave through the scheduler loop.
using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class SystemCalls
    {
        private static readonly byte[] s_consoleBuffer = new byte[SystemCallLimits.MaximumConsoleWrite];
        private static readonly ulong[] s_protectSaved = new ulong[SystemCallLimits.MaximumMapRequests];
        private static readonly PageMapRequest[] s_mapRequests = new PageMapRequest[SystemCallLimits.MaximumMapRequests];

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_symbol_syscall_fast")]
        private static extern ulong* FastTable();

        private const int SlowOnly = 0;

        /// <summary>Fills the entry stub's table of fast handlers: the calls that never switch
        /// environments and return one result are called directly (System V arguments), skipping
        /// the full register frame. The others (and unknown numbers) take the slow path.</summary>
        public static void Initialize()
        {
            Diagnostics.KernelAssert.That((int)SystemCall.Count == 29, "SYSCALL_COUNT in Boot/usermode.S must equal Aegis.Abi.SystemCall.Count");
            ulong* table = FastTable();
            table[(int)SystemCall.Null] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastNull;
            table[(int)SystemCall.ConsoleWrite] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastConsoleWrite;
            table[(int)SystemCall.FrameAllocate] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastFrameAllocate;
            table[(int)SystemCall.FrameFree] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastFrameFree;
            table[(int)SystemCall.FrameGrant] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastFrameGrant;
            table[(int)SystemCall.PageMap] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastPageMap;
            table[(int)SystemCall.PageQuery] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastPageQuery;
            table[(int)SystemCall.PageClean] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastPageClean;
            table[(int)SystemCall.SliceAllocate] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastSliceAllocate;
            table[(int)SystemCall.SliceFree] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastSliceFree;
            table[(int)SystemCall.RevokeFrames] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastRevokeFrames;
            table[(int)SystemCall.ImageSpawn] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastImageSpawn;
            table[(int)SystemCall.CapabilityCopy] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastCapabilityCopy;
            table[(int)SystemCall.SetFsBase] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastSetFsBase;
            table[(int)SystemCall.Debug] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastDebug;
            table[(int)SystemCall.EnvironmentCreate] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastEnvironmentCreate;
            table[(int)SystemCall.EnvironmentStart] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastEnvironmentStart;
            table[(int)SystemCall.EnvironmentSetUpcall] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastEnvironmentSetUpcall;
            table[(int)SystemCall.PageProtect] = (ulong)(delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong>)&FastPageProtect;
        }

        private static ulong FastPageProtect(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageProtect(Scheduler.Current, a0, a1, a2, a3);
        private static ulong FastNull(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => 0;
        private static ulong FastConsoleWrite(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => ConsoleWrite(Scheduler.Current, a0, a1, a2);
        private static ulong FastFrameAllocate(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
        {
            Error error = Environments.AllocateFrame(Scheduler.Current, a0, out ulong frameNumber);
            return error == Error.None ? Ok(frameNumber) : Fail(error);
        }
        private static ulong FastFrameFree(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => ErrorResult(Environments.FreeFrame(Scheduler.Current, a0));
        private static ulong FastFrameGrant(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => FrameGrant(Scheduler.Current, a0, a1, a2);
        private static ulong FastPageMap(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageMap(Scheduler.Current, a0, a1, a2);
        private static ulong FastPageQuery(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageQuery(Scheduler.Current, a0, a1);
        private static ulong FastPageClean(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageClean(Scheduler.Current, a0, a1);
        private static ulong FastSliceAllocate(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
        {
            Error error = Environments.Slices.Allocate(Scheduler.Current.Id, a0, out int index);
            return error == Error.None ? Ok((ulong)index) : Fail(error);
        }
        private static ulong FastSliceFree(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => ErrorResult(Environments.Slices.Free(Scheduler.Current.Id, a0));
        private static ulong FastRevokeFrames(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => RevokeFrames(Scheduler.Current, a0, a1, a2);
        private static ulong FastImageSpawn(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => ImageSpawn(Scheduler.Current, a0, a1, a2, a3);
        private static ulong FastCapabilityCopy(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => CapabilityCopy(Scheduler.Current, a0, a1);
        private static ulong FastSetFsBase(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => SetFsBase(Scheduler.Current, a0);
        private static ulong FastDebug(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => Debug(Scheduler.Current, a0);
        private static ulong FastEnvironmentCreate(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => EnvironmentCreate(Scheduler.Current);
        private static ulong FastEnvironmentStart(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => EnvironmentStart(Scheduler.Current, a0, a1, a2, a3);
        private static ulong FastEnvironmentSetUpcall(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => EnvironmentSetUpcall(Scheduler.Current, a0, a1, a2, a3);

        /// <summary>The slow path: the full register frame (blocking, switching, two results).</summary>
        [UnmanagedCallersOnly(EntryPoint = "aegis_syscall_dispatch")]
        private static void Dispatch(InterruptFrame* frame)
        {
            Environment caller = Scheduler.Current;
            caller.Counters[0]++;
            ulong result = Handle(caller, frame);
            frame->Rax = result;
            if ((long)result < 0)
                caller.Counters[1]++;
        }

        private static ulong Ok(ulong value = 0) => value;
        private static ulong Fail(Error error) => unchecked((ulong)(long)error);

        private static ulong Handle(Environment caller, InterruptFrame* frame)
        {
            ulong a0 = frame->Rdi, a1 = frame->Rsi, a2 = frame->Rdx, a3 = frame->R10, a4 = frame->R8, a5 = frame->R9;
            switch ((SystemCall)frame->Rax)
            {
                case SystemCall.Null: return Ok();
                case SystemCall.ConsoleWrite: return ConsoleWrite(caller, a0, a1, a2);
                case SystemCall.Exit:
                    Scheduler.Save(caller, frame, false);
                    Environments.Destroy(caller, EnvironmentState.Exited, DestroyReason.None, a0, null);
                    Scheduler.LeaveToLoop();
                    return Ok();
                case SystemCall.Yield: return Yield(caller, frame, a0);
                case SystemCall.EnvironmentCreate: return EnvironmentCreate(caller);
                case SystemCall.EnvironmentDestroy: return EnvironmentDestroy(caller, frame, a0);
                case SystemCall.EnvironmentStart: return EnvironmentStart(caller, a0, a1, a2, a3);
                case SystemCall.EnvironmentSetUpcall: return EnvironmentSetUpcall(caller, a0, a1, a2, a3);
                case SystemCall.EnvironmentStatus: return EnvironmentStatus(caller, frame, a0);
                case SystemCall.FrameAllocate:
                {
                    Error error = Environments.AllocateFrame(caller, a0, out ulong frameNumber);
                    return error == Error.None ? Ok(frameNumber) : Fail(error);
                }
                case SystemCall.FrameFree: return ErrorResult(Environments.FreeFrame(caller, a0));
                case SystemCall.FrameGrant: return FrameGrant(caller, a0, a1, a2);
                case SystemCall.PageMap: return PageMap(caller, a0, a1, a2);
                case SystemCall.PageQuery: return PageQuery(caller, a0, a1);
                case SystemCall.PageClean: return PageClean(caller, a0, a1);
                case SystemCall.IpcCall: return Ipc.Call(caller, frame, a0, a1, a2, a3, a4, a5);
                case SystemCall.IpcReply: return Ipc.Reply(caller, frame, a0, a1, a2);
                case SystemCall.IpcSend: return Ipc.Send(caller, frame, a0, a1, a2, a3, a4, a5);
                case SystemCall.Wait:
                    if (caller.WakeupPending)
                    {
                        // An IPC or revocation upcall came since the last Wait: no sleep (no lost wakeup).
                        caller.WakeupPending = false;
                        return Ok();
                    }
                    Scheduler.BlockCurrent(frame, BlockReason.Waiting);
                    return Ok();
                case SystemCall.SliceAllocate:
                {
                    Error error = Environments.Slices.Allocate(caller.Id, a0, out int index);
                    return error == Error.None ? Ok((ulong)index) : Fail(error);
                }
                case SystemCall.SliceFree:
                    if (a0 >= 64) return Fail(Error.InvalidArgument);
                    return ErrorResult(Environments.Slices.Free(caller.Id, a0));
                case SystemCall.RevokeFrames: return RevokeFrames(caller, a0, a1, a2);
                case SystemCall.ImageSpawn: return ImageSpawn(caller, a0, a1, a2, a3);
                case SystemCall.CapabilityCopy: return CapabilityCopy(caller, a0, a1);
                case SystemCall.CapabilityQuery: return CapabilityQuery(caller, frame, a0);
                case SystemCall.SetFsBase: return SetFsBase(caller, a0);
                case SystemCall.Debug: return Debug(caller, a0);
                case SystemCall.PageProtect: return PageProtect(caller, a0, a1, a2, a3);
                case SystemCall.EnvironmentStop: return EnvironmentStop(caller, frame, a0);
                default:
                    return Fail(Error.NoSuchCall);
            }
        }

        private static ulong ErrorResult(Error error) => error == Error.None ? Ok() : Fail(error);

        private static ulong SetFsBase(Environment caller, ulong address)
        {
            if (!UserMemory.IsUserRange(address, 0)) return Fail(Error.BadAddress);
            caller.FsBase = address;
            Cpu.WriteFsBase(address);
            return Ok();
        }

        private static ulong Debug(Environment caller, ulong value)
        {
            KernelLog.WriteLine("aegis: debug from " + caller.Describe() + ": value " + value.ToString() + "; it owns "
                + Environments.Ledger.CountOwnedBy(caller.Id).ToString() + " frames; " + KernelMemory.Frames.FreeFrames.ToString() + " free");
            return Ok();
        }

        /// <summary>The environment a slot names: Self (slot 0) or an Environment capability.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Error ResolveEnvironment(Environment caller, ulong slot, out Environment target)
        {
            target = null;
            if (slot == CapabilitySlots.Self)
            {
                target = caller;
                return Error.None;
            }
            Error error = caller.Capabilities.Lookup(slot, CapabilityKind.Environment, out ulong id);
            if (error != Error.None)
                return error;
            target = Environments.Find(id);
            return target == null ? Error.BadEnvironment : Error.None;
        }

        private static ulong ConsoleWrite(Environment caller, ulong slot, ulong address, ulong length)
        {
            Error error = caller.Capabilities.Lookup(slot, CapabilityKind.Console, out _);
            if (error != Error.None) return Fail(error);
            if (length > SystemCallLimits.MaximumConsoleWrite) return Fail(Error.InvalidArgument);
            if (!UserMemory.IsUserRange(address, length)) return Fail(Error.BadAddress);
            // Static buffer: there is no garbage collector, so system calls must not allocate per call.
            Span<byte> buffer = new Span<byte>(s_consoleBuffer, 0, (int)length);
            if (!UserMemory.TryRead(caller, address, buffer)) return Fail(Error.BadAddress);
            for (int i = 0; i < buffer.Length; i++)
            {
                // Printable ASCII, newline and tab pass; other control bytes (terminal escapes,
                // carriage returns that could overwrite the kernel's lines) and non-ASCII print as '?'.
                byte b = buffer[i];
                char c = (b >= 0x20 && b < 0x7F) || b == (byte)'\n' || b == (byte)'\t' ? (char)b : '?';
                ConsoleOutput.Put(caller, c); // each line it starts is prefixed with its id and name
            }
            return Ok(length);
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
            Error error = Environments.Create(caller.Id, null, out Environment child);
            if (error != Error.None) return Fail(error);
            error = caller.Capabilities.TryInsert(CapabilityKind.Environment, child.Id, out ulong slot);
            if (error != Error.None)
            {
                Environments.Destroy(child, EnvironmentState.Destroyed, DestroyReason.ByCapability, 0, null);
                return Fail(error);
            }
            child.Name = (caller.Name ?? "env") + "/child";
            // A created child starts as the caller's copy would: with the caller's thread pointer
            // (FS base), so a libOS that copies its memory (fork) finds its TLS in place.
            child.FsBase = caller.FsBase;
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
            Environments.Destroy(target, EnvironmentState.Destroyed, DestroyReason.ByCapability, 0,
                "destroyed by " + caller.Describe() + " (capability holder)");
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
            return Ok();
        }

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

        private static ulong FrameGrant(Environment caller, ulong frameNumber, ulong slot, ulong writable)
        {
            if (writable > 1) return Fail(Error.InvalidArgument);
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (frameNumber >= KernelMemory.Frames.FrameLimit) return Fail(Error.InvalidArgument);
            return ErrorResult(Environments.Ledger.Grant(frameNumber, caller.Id, target.Id, writable == 1));
        }

        private static ulong PageMap(Environment caller, ulong slot, ulong address, ulong count)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (count == 0) return Ok(0);
            if (count > (ulong)SystemCallLimits.MaximumMapRequests) return Fail(Error.InvalidArgument);
            ulong bytes = count * (ulong)sizeof(PageMapRequest);
            if (!UserMemory.IsUserRange(address, bytes)) return Fail(Error.BadAddress);
            Span<PageMapRequest> requests = new Span<PageMapRequest>(s_mapRequests, 0, (int)count);
            fixed (PageMapRequest* destination = s_mapRequests)
            {
                if (!UserMemory.TryRead(caller, address, new Span<byte>(destination, (int)bytes)))
                    return Fail(Error.BadAddress);
            }
            // Validate everything first: all or nothing.
            error = Environments.Validator.ValidateBatch(requests, caller.Id, target.Id, target, out _);
            if (error != Error.None) return Fail(error);
            // All or nothing also when page tables must be built: each request can need up to three
            // new tables, so refuse up front rather than fail half-way.
            if (KernelMemory.Frames.FreeFrames < count * 3 + 3) return Fail(Error.NoMemory);
            for (int i = 0; i < requests.Length; i++)
            {
                PageMapRequest request = requests[i];
                PageFlags flags = MappingValidator.ToPageFlags(request.Permissions);
                switch (request.Operation)
                {
                    case PageMapOperation.Map: error = Environments.Map(target, request.VirtualAddress, request.Frame, flags); break;
                    case PageMapOperation.Unmap: error = Environments.Unmap(target, request.VirtualAddress); break;
                    default: error = Environments.Protect(target, request.VirtualAddress, flags); break;
                }
                if (error != Error.None)
                    return Fail(error); // only out of page-table memory can fail here
            }
            return Ok(count);
        }

        /// <summary>The range Protect. One pass sets each page's new permissions, remembering the old
        /// entries; if a page turns out unmapped, or a page to be made writable holds a frame neither
        /// the caller nor the target may write, every change is undone: all or nothing. Consecutive
        /// pages share their page table, so the tables are walked once per 512 pages.</summary>
        private static ulong PageProtect(Environment caller, ulong slot, ulong address, ulong pageCount, ulong permissions)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (pageCount == 0 || pageCount > (ulong)SystemCallLimits.MaximumMapRequests) return Fail(Error.InvalidArgument);
            // MappingValidator's one permission rule (AcceptedPermissions == PageBits.Allowed, host-tested), inline.
            if ((address & 4095) != 0 || (permissions & ~MappingValidator.AcceptedPermissions) != 0) return Fail(Error.InvalidArgument);
            if (address < UserAddresses.LowestMappable || address > UserAddresses.ReservedTop
                || pageCount * 4096 > UserAddresses.ReservedTop - address) return Fail(Error.BadAddress);
            ulong leafBits = PageBits.Present | PageBits.User | permissions;
            bool writable = (permissions & PageBits.Writable) != 0;
            const ulong keep = PageBits.FrameMask | PageBits.Accessed | PageBits.Dirty;
            const ulong presentUser = PageBits.Present | PageBits.User;
            if (pageCount == 1)
                return ProtectOnePage(caller, target, address, leafBits, writable);
            int count = (int)pageCount;
            int changed = 0;
            Error failure = Error.None;
            fixed (ulong* saved = s_protectSaved)
            fixed (ulong* owners = Environments.Ledger.OwnerTable)
            {
                ulong* ids = stackalloc ulong[2];
                ids[0] = caller.Id;
                ids[1] = target.Id;
                while (changed < count && failure == Error.None)
                {
                    ulong page = address + (ulong)changed * 4096;
                    ulong* leaf = PageWalk.UserLeaf(target, page, false);
                    if (leaf == null) { failure = Error.NotMapped; break; }
                    int inTable = 512 - (int)((page >> 12) & 511);
                    int run = count - changed < inTable ? count - changed : inTable;
                    int done = 0;
                    while (done < run)
                    {
                        done += (int)(writable
                            ? ProtectRunWritable(leaf + done, (ulong)(run - done), leafBits, saved + changed + done, owners, ids)
                            : ProtectRun(leaf + done, (ulong)(run - done), leafBits, saved + changed + done));
                        if (done == run) break;
                        // The loop stopped at an entry it could not decide: not mapped, or (making
                        // pages writable) a frame neither the caller nor the target owns.
                        ulong value = leaf[done];
                        if ((~value & presentUser) != 0) { failure = Error.NotMapped; break; }
                        if (!writable || !MayWriteByGrant(value, caller.Id, target.Id)) { failure = Error.NotOwner; break; }
                        saved[changed + done] = value;
                        leaf[done] = (value & keep) | leafBits;
                        done++;
                    }
                    changed += done;
                }
            }
            if (failure != Error.None)
            {
                for (int i = 0; i < changed; i++)
                    *PageWalk.UserLeaf(target, address + (ulong)i * 4096, false) = s_protectSaved[i];
                return Fail(failure);
            }
            if (Environments.TouchesUpcallPages(target, address, pageCount))
                target.MappingGeneration++;
            if (target == Scheduler.Current)
            {
                if (pageCount > 16) Cpu.WriteCr3(target.RootPhysical); // flushes the user half; kernel pages are global
                else for (ulong i = 0; i < pageCount; i++) Cpu.InvalidatePage(address + i * 4096);
            }
            return Ok(pageCount);
        }

        /// <summary>PageProtect of a single page: the same checks, without the run machinery.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong ProtectOnePage(Environment caller, Environment target, ulong address, ulong leafBits, bool writable)
        {
            ulong* leaf = PageWalk.UserLeaf(target, address, false);
            if (leaf == null) return Fail(Error.NotMapped);
            ulong value = *leaf;
            if (writable)
            {
                ulong owner = Environments.Ledger.OwnerOf((value & PageBits.FrameMask) >> PageBits.FrameShift);
                if (owner != caller.Id && owner != target.Id && !MayWriteByGrant(value, caller.Id, target.Id))
                    return Fail(Error.NotOwner);
            }
            *leaf = (value & (PageBits.FrameMask | PageBits.Accessed | PageBits.Dirty)) | leafBits;
            if (Environments.TouchesUpcallPages(target, address, 1))
                target.MappingGeneration++;
            if (target == Scheduler.Current)
                Cpu.InvalidatePage(address);
            return Ok(1);
        }

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_protect_run")]
        private static extern ulong ProtectRun(ulong* leaf, ulong count, ulong leafBits, ulong* saved);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_unprotect_run")]
        private static extern ulong ProtectRunWritable(ulong* leaf, ulong count, ulong leafBits, ulong* saved, ulong* owners, ulong* ids);

        private static bool MayWriteByGrant(ulong entry, ulong callerId, ulong targetId)
        {
            ulong frame = (entry & PageBits.FrameMask) >> PageBits.FrameShift;
            return Environments.Ledger.CheckMap(frame, callerId, true) == Error.None
                || Environments.Ledger.CheckMap(frame, targetId, true) == Error.None;
        }

        private static ulong PageQuery(Environment caller, ulong slot, ulong address)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (!UserMemory.IsUserRange(address, 1)) return Fail(Error.BadAddress);
            ulong* leaf = PageWalk.UserLeaf(target, address & ~4095UL, false);
            if (leaf == null) return Fail(Error.NotMapped);
            const ulong reported = PageBits.FrameMask | PageBits.Present | PageBits.Writable | PageBits.User | PageBits.Accessed
                | PageBits.Dirty | PageBits.Software0 | PageBits.Software1 | PageBits.Software2 | PageBits.NoExecute;
            return Ok(*leaf & reported);
        }

        private static ulong PageClean(Environment caller, ulong slot, ulong address)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (!UserMemory.IsUserRange(address, 1)) return Fail(Error.BadAddress);
            ulong page = address & ~4095UL;
            ulong* leaf = PageWalk.UserLeaf(target, page, false);
            if (leaf == null) return Fail(Error.NotMapped);
            *leaf &= ~(PageBits.Accessed | PageBits.Dirty);
            target.MappingGeneration++;
            if (target == caller) Cpu.InvalidatePage(page);
            return Ok();
        }

        private static ulong RevokeFrames(Environment caller, ulong slot, ulong count, ulong deadline)
        {
            if (slot == CapabilitySlots.Self) return Fail(Error.InvalidArgument);
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            return ErrorResult(Revocation.Request(target, count, deadline));
        }

        private static ulong ImageSpawn(Environment caller, ulong nameAddress, ulong nameLength, ulong argumentAddress, ulong argumentLength)
        {
            if (nameLength == 0 || nameLength > 64 || argumentLength > 255) return Fail(Error.InvalidArgument);
            string name = ReadString(caller, nameAddress, nameLength);
            if (name == null) return Fail(Error.BadAddress);
            string argument = "";
            if (argumentLength > 0)
            {
                argument = ReadString(caller, argumentAddress, argumentLength);
                if (argument == null) return Fail(Error.BadAddress);
            }
            if (!BootImages.Exists(name)) return Fail(Error.NoSuchImage);
            Error error = BootImages.Spawn(caller.Id, name, argument, out Environment child, out string problem);
            if (error != Error.None)
            {
                KernelLog.WriteLine("aegis: " + caller.Describe() + " could not spawn '" + name + "': " + problem);
                return Fail(error);
            }
            error = caller.Capabilities.TryInsert(CapabilityKind.Environment, child.Id, out ulong slot);
            if (error != Error.None)
            {
                Environments.Destroy(child, EnvironmentState.Destroyed, DestroyReason.ByCapability, 0, null);
                return Fail(error);
            }
            return Ok(slot);
        }

        private static ulong CapabilityCopy(Environment caller, ulong slot, ulong environmentSlot)
        {
            if (slot == CapabilitySlots.Self || slot >= CapabilitySlots.Count) return Fail(Error.InvalidArgument);
            Error error = caller.Capabilities.Query(slot, out CapabilityKind kind, out ulong objectId);
            if (error != Error.None) return Fail(error);
            error = ResolveEnvironment(caller, environmentSlot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (kind == CapabilityKind.Console && target.Capabilities.Lookup(CapabilitySlots.Console, CapabilityKind.Console, out _) != Error.None
                && target.Capabilities.TryInsertAt(CapabilitySlots.Console, kind, objectId) == Error.None)
                return Ok(CapabilitySlots.Console);
            error = target.Capabilities.TryInsert(kind, objectId, out ulong newSlot);
            return error == Error.None ? Ok(newSlot) : Fail(error);
        }

        private static ulong CapabilityQuery(Environment caller, InterruptFrame* frame, ulong slot)
        {
            if (slot >= CapabilitySlots.Count) return Fail(Error.InvalidArgument);
            if (slot == CapabilitySlots.Self)
            {
                frame->Rdx = caller.Id;
                return Ok((ulong)CapabilityKind.Environment);
            }
            Error error = caller.Capabilities.Query(slot, out CapabilityKind kind, out ulong objectId);
            if (error != Error.None) return Fail(error);
            frame->Rdx = objectId;
            return Ok((ulong)kind);
        }

        internal static string ReadString(Environment environment, ulong address, ulong length)
        {
            if (!UserMemory.IsUserRange(address, length)) return null;
            byte[] bytes = new byte[length];
            if (!UserMemory.TryRead(environment, address, bytes)) return null;
            char[] text = new char[length];
            for (int i = 0; i < bytes.Length; i++) text[i] = (char)bytes[i];
            return new string(text);
        }
    }
}
