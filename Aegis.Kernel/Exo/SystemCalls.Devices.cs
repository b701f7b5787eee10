// System calls on devices (issue #9): InputRead and InputWatch on an Input capability, DeviceMap
// on a Display capability (Aegis.Abi/SystemCall.cs, docs/abi.md). Mechanism only: bytes and
// frames, no meaning. Each checks every argument before it changes anything (InputRead takes
// no byte unless the whole buffer is writable); none allocates (a static buffer carries the
// bytes from the ring to the caller).
using System;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class SystemCalls
    {
        private static readonly byte[] s_inputBuffer = new byte[InputLimits.RingBytes];

        private static ulong InputRead(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => InputRead(Scheduler.Current, a0, a1, a2);
        private static ulong InputPeek(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => InputRead(Scheduler.Current, a0, a1, a2, take: false);
        private static ulong InputWatch(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => InputWatch(Scheduler.Current, a0, a1);
        private static ulong DeviceMap(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => DeviceMap(Scheduler.Current, a0, a1);

        /// <summary>The ring of the Input capability in slot (NoCapability for any other slot).</summary>
        private static Error ResolveInput(Environment caller, ulong slot, out ulong device, out InputRing ring)
        {
            ring = null;
            Error error = caller.Capabilities.Lookup(slot, CapabilityKind.Input, out device);
            if (error != Error.None) return error;
            ring = InputDevices.Ring(device);
            return ring == null ? Error.NoCapability : Error.None;
        }

        /// <summary>InputRead, or InputPeek (take false: the bytes stay in the ring).</summary>
        private static ulong InputRead(Environment caller, ulong slot, ulong address, ulong length, bool take = true)
        {
            Error error = ResolveInput(caller, slot, out ulong device, out InputRing ring);
            if (error != Error.None) return Fail(error);
            if (length > InputLimits.RingBytes) return Fail(Error.InvalidArgument);
            // The whole buffer must be writable, whether or not bytes are waiting (a bad buffer is an
            // error every time, not only when input happens to be there).
            if (!UserMemory.IsAccessible(caller, address, length, true)) return Fail(Error.BadAddress);
            if (length == 0) return Ok(0);
            Span<byte> bytes = new Span<byte>(s_inputBuffer, 0, (int)length);
            int count = ring.Peek(bytes);
            if (count == 0) return Ok(0);
            if (!UserMemory.TryWrite(caller, address, bytes.Slice(0, count))) return Fail(Error.BadAddress);
            if (take)
            {
                ring.Discard(count);
                InputDevices.Resume(device, ring);
            }
            return Ok((ulong)count);
        }

        private static ulong InputWatch(Environment caller, ulong slot, ulong enable)
        {
            Error error = ResolveInput(caller, slot, out ulong device, out _);
            if (error != Error.None) return Fail(error);
            if (enable > 1) return Fail(Error.InvalidArgument);
            InputDevices.Watch(caller, device, enable == 1);
            return Ok();
        }

        private static ulong DeviceMap(Environment caller, ulong slot, ulong address)
        {
            Error error = caller.Capabilities.Lookup(slot, CapabilityKind.Display, out _);
            if (error != Error.None) return Fail(error);
            const ulong pages = InputLimits.DisplayPages;
            if ((address & 4095) != 0) return Fail(Error.InvalidArgument);
            if (address < UserAddresses.LowestMappable || address > UserAddresses.ReservedTop
                || pages * 4096 > UserAddresses.ReservedTop - address) return Fail(Error.BadAddress);
            FrameLedger ledger = Environments.Ledger;
            if (!ledger.IsDevice(InputLimits.DisplayFirstFrame)) return Fail(Error.NoCapability); // no display frames on this machine
            // Page tables (charged to the caller, as PageMap's) and mapping records, checked up front.
            error = Accounts.CheckFrames(caller, pages * 3 + 3);
            if (error != Error.None) return Fail(error);
            error = Accounts.CheckMappings(caller, (int)pages);
            if (error != Error.None) return Fail(error);
            if (ledger.FreeMappingRecords < (int)pages) return Fail(Error.NoMemory);
            for (ulong i = 0; i < pages; i++)
                if (ledger.MappingsOf(InputLimits.DisplayFirstFrame + i) + 1 > FrameLedger.MaximumMappingsPerFrame) return Fail(Error.QuotaExceeded);
            // Uncached (PCD, PWT): device memory, whatever the memory-type ranges say.
            const PageFlags flags = PageFlags.Present | PageFlags.User | PageFlags.Writable | PageFlags.NoExecute
                | PageFlags.CacheDisable | PageFlags.WriteThrough;
            for (ulong i = 0; i < pages; i++)
            {
                error = UserPageTables.Map(caller, address + i * 4096, InputLimits.DisplayFirstFrame + i, flags);
                if (error != Error.None) return Fail(error); // only out of page-table memory, checked above
            }
            InputDevices.OnDisplayMapped(caller);
            return Ok(pages);
        }
    }
}
