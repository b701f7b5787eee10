// MappingValidator: checks PageMap requests before the kernel applies any of them (validate,
// then act). A request may touch only user pages in [LowestMappable, ReservedTop), page
// aligned, with user permissions from PageBits.Allowed; it may bind a frame, or make a
// binding writable, only when the ledger says the caller (or the environment whose address
// space is edited, which the caller controls by capability) owns the frame or holds a grant
// with enough rights. Unmap and Protect need a page that is mapped at that point of the batch.
//
// Invariants:
//   - ValidateBatch answers None only if applying the requests in order cannot fail on any
//     argument or right: the kernel applies a batch only after it validated as a whole, so a
//     rejected batch changes nothing;
//   - a request that is not a Map never changes which frame a page maps, and a page mapped
//     writable always has a frame the caller or the target may write;
//   - nothing above ReservedTop (information pages, the kernel half) and nothing below
//     LowestMappable (the null guard) is ever touched; non-canonical addresses are above
//     ReservedTop, so they fail the same check.
// Validation reads the ledger and the address space; it changes nothing.
using System;
using Aegis.Abi;

namespace Aegis.Kernel.Core.Exo
{
    public sealed class MappingValidator
    {
        /// <summary>The one permission rule of PageMap (Map, Protect) and PageProtect: exactly the bits of
        /// PageBits.Allowed (Writable, NoExecute, the three software bits). Present and User are implied
        /// and may not be passed (a PageQuery result goes back through PageBits.Allowed, as LibOS.Base's
        /// PageInfo.Permissions does); anything else is InvalidArgument.</summary>
        public const ulong AcceptedPermissions = PageBits.Allowed;

        /// <summary>InvalidArgument unless permissions holds only AcceptedPermissions bits.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static Error CheckPermissions(ulong permissions)
            => (permissions & ~AcceptedPermissions) == 0 ? Error.None : Error.InvalidArgument;

        private const ulong PageOffsetMask = UserAddresses.PageSize - 1;

        private readonly FrameLedger _ledger;

        public MappingValidator(FrameLedger ledger)
        {
            _ledger = ledger;
        }

        /// <summary>InvalidArgument for a batch larger than SystemCallLimits.MaximumMapRequests; check
        /// it before copying the requests in from user memory.</summary>
        public static Error CheckBatchCount(ulong count)
            => count > SystemCallLimits.MaximumMapRequests ? Error.InvalidArgument : Error.None;

        /// <summary>Validates every request of a PageMap call as if the earlier ones were applied.
        /// requesterId is the caller, targetId the environment whose address space target shows
        /// (the same id when the caller edits its own). On error, failedIndex is the first bad
        /// request (-1 when the batch as a whole is bad) and nothing may be applied.</summary>
        public Error ValidateBatch(ReadOnlySpan<PageMapRequest> requests, ulong requesterId, ulong targetId,
            IMappedFrames target, out int failedIndex)
        {
            failedIndex = -1;
            if (CheckBatchCount((ulong)requests.Length) != Error.None) return Error.InvalidArgument;
            bool batchChangedFrames = false;
            for (int i = 0; i < requests.Length; i++)
            {
                Error error = ValidateInBatch(requests, i, requesterId, targetId, target, batchChangedFrames);
                if (error != Error.None)
                {
                    failedIndex = i;
                    return error;
                }
                if (requests[i].Operation != PageMapOperation.Protect) batchChangedFrames = true;
            }
            return Error.None;
        }

        /// <summary>Validates one request against the address space as it is now.</summary>
        public Error Validate(in PageMapRequest request, ulong requesterId, ulong targetId, IMappedFrames target)
            => ValidateInBatch(new ReadOnlySpan<PageMapRequest>(in request), 0, requesterId, targetId, target, false);

        /// <summary>The checks that need nothing but the request: address, operation, permissions.</summary>
        public static Error CheckShape(in PageMapRequest request)
        {
            Error address = CheckPageAddress(request.VirtualAddress);
            if (address != Error.None) return address;
            switch (request.Operation)
            {
                case PageMapOperation.Unmap:
                    return Error.None;
                case PageMapOperation.Map:
                case PageMapOperation.Protect:
                    return CheckPermissions(request.Permissions);
                default:
                    return Error.InvalidArgument;
            }
        }

        /// <summary>BadAddress outside [LowestMappable, ReservedTop) (kernel, reserved, null guard,
        /// non-canonical), InvalidArgument when not page aligned: the address check of PageMap, and
        /// of PageQuery and PageClean.</summary>
        public static Error CheckPageAddress(ulong virtualAddress)
        {
            if (!IsMappableAddress(virtualAddress)) return Error.BadAddress;
            return (virtualAddress & PageOffsetMask) != 0 ? Error.InvalidArgument : Error.None;
        }

        /// <summary>True for an address a libOS may map: [LowestMappable, ReservedTop).</summary>
        public static bool IsMappableAddress(ulong virtualAddress)
            => virtualAddress >= UserAddresses.LowestMappable && virtualAddress < UserAddresses.ReservedTop;

        /// <summary>The leaf flags for ABI permissions: always Present and User, plus Writable,
        /// NoExecute and the three software bits (9-11) when asked for.</summary>
        public static PageFlags ToPageFlags(ulong permissions)
        {
            const ulong kept = PageBits.Writable | PageBits.NoExecute
                               | PageBits.Software0 | PageBits.Software1 | PageBits.Software2;
            return PageFlags.Present | PageFlags.User | (PageFlags)(permissions & kept);
        }

        private Error ValidateInBatch(ReadOnlySpan<PageMapRequest> requests, int index, ulong requesterId,
            ulong targetId, IMappedFrames target, bool batchChangedFrames)
        {
            ref readonly PageMapRequest request = ref requests[index];
            Error shape = CheckShape(request);
            if (shape != Error.None) return shape;
            if (request.Operation == PageMapOperation.Map)
                return CheckRights(request.Frame, IsWritable(request.Permissions), requesterId, targetId);
            bool mapped = batchChangedFrames
                ? FrameAfterEarlierRequests(requests, index, target, out ulong frame)
                : TryGetMappedFrame(target, request.VirtualAddress, out frame);
            return CheckExisting(request, mapped, frame, requesterId, targetId);
        }

        /// <summary>Unmap and Protect need a mapped page; Protect to writable needs the right to write
        /// the frame that is mapped there.</summary>
        private Error CheckExisting(in PageMapRequest request, bool mapped, ulong frame, ulong requesterId, ulong targetId)
        {
            if (!mapped) return Error.NotMapped;
            if (request.Operation == PageMapOperation.Protect && IsWritable(request.Permissions))
                return CheckRights(frame, true, requesterId, targetId);
            return Error.None;
        }

        /// <summary>The caller's rights, or the target's: a capability over an environment lets the
        /// caller do in its address space what the environment itself may do.</summary>
        private Error CheckRights(ulong frame, bool writable, ulong requesterId, ulong targetId)
        {
            Error error = _ledger.CheckMap(frame, requesterId, writable);
            if (error == Error.NotOwner && targetId != requesterId)
                error = _ledger.CheckMap(frame, targetId, writable);
            return error;
        }

        /// <summary>Which frame the page of requests[index] maps once requests[0..index) are applied:
        /// the latest earlier Map or Unmap of the same page decides, else the address space.</summary>
        private static bool FrameAfterEarlierRequests(ReadOnlySpan<PageMapRequest> requests, int index,
            IMappedFrames target, out ulong frame)
        {
            ulong page = requests[index].VirtualAddress;
            for (int earlier = index - 1; earlier >= 0; earlier--)
            {
                ref readonly PageMapRequest previous = ref requests[earlier];
                if (previous.VirtualAddress != page || previous.Operation == PageMapOperation.Protect) continue;
                frame = previous.Operation == PageMapOperation.Map ? previous.Frame : 0;
                return previous.Operation == PageMapOperation.Map;
            }
            return TryGetMappedFrame(target, page, out frame);
        }

        private static bool TryGetMappedFrame(IMappedFrames target, ulong virtualAddress, out ulong frame)
        {
            frame = 0;
            return target != null && target.TryGetMappedFrame(virtualAddress, out frame);
        }

        private static bool IsWritable(ulong permissions) => (permissions & PageBits.Writable) != 0;
    }
}
