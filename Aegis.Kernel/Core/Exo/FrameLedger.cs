// FrameLedger: who may bind which physical frame (secure bindings for memory). For each frame
// below FrameLimit it records the owner (an environment id, KernelOwner, or NoOwner), every
// page-table entry that maps it (a reverse map: which address space, which virtual address),
// and the environments the owner granted it to (read-only or read-write). The kernel asks
// CheckMap before it installs a mapping and reports every mapping it installs or removes; the
// ledger says when a frame is no longer used by anyone and must go back to the FrameAllocator.
//
// Invariants (for the frames the kernel records here):
//   - a frame is free in the FrameAllocator iff it has no owner and no mappings: the kernel
//     frees a frame exactly when RemoveMapping or ReleaseOwnership answers true, and either
//     answers true only on the transition to "no owner, no mappings", so at most once;
//   - MappingsOf(frame) == the length of the frame's reverse-map list; RemoveMapping of a
//     mapping that is not recorded changes nothing;
//   - only an owned frame has grants; ReleaseOwnership drops them;
//   - every owned frame is on exactly one owner list (its owner's, in the order the frames were
//     assigned), so CountOwnedBy, LastOwnedBy and taking a frame off a list are O(1);
//     OwnedFrames == the sum of CountOwnedBy over all owners, and OrphanedFrames == the frames
//     with no owner that are still mapped (their owner ended while another mapping lived on),
//     so OwnedFrames + OrphanedFrames + free frames == every frame handed out (kernel frames
//     count when assigned to KernelOwner);
//   - owner lists are kept per EnvironmentTable slot (KernelOwner has its own): two owners whose
//     ids share a slot never own frames at the same time (Assign answers Busy), which holds in
//     the kernel because an environment's frames are all released before its slot is reused;
//   - device frames (MarkDevice: memory-mapped hardware such as the VGA text buffer, not RAM)
//     are owned by DeviceOwner for ever: no environment owns, frees, grants or binds them by
//     frame number (CheckMap answers NotOwner), they are on no owner list and not in OwnedFrames,
//     and RemoveMapping / ReleaseOwnership never answer true for them (never "free it now"); the
//     kernel maps them itself (DeviceMap) and the reverse map records those mappings as usual;
//   - GrantCount <= MaximumGrants and mapping records <= MaximumMappings (both preallocated or
//     bounded), so no environment can make the kernel's memory grow without bound.
//   - a frame given up with Release while mapped is an orphan like any other (no owner, mapped,
//     freed with its last mapping); its releaser stays recorded until then (TakeReleaser);
// Memory: 36 bytes per frame (owner, mapping count, first grant, owner-list links, first
// mapping) plus 16 bytes per mapping record (preallocated) and 24 bytes per grant.
// Frame numbers index arrays only after the range check, cast to int (FrameLimit <= int.MaxValue):
// an array indexed by a ulong needs a checked conversion that Aegis.Runtime does not provide.
using System;
using System.Collections.Generic;
using Aegis.Abi;

namespace Aegis.Kernel.Core.Exo
{
    public sealed class FrameLedger
    {
        public const ulong NoOwner = 0;

        /// <summary>Owner of frames the kernel keeps for itself (page tables, information pages).
        /// Never an environment id (EnvironmentTable stops generations short of it).</summary>
        public const ulong KernelOwner = ulong.MaxValue;

        /// <summary>Owner of device frames (MarkDevice): never an environment id (ids stop short of
        /// KernelOwner by more than one) and never on an owner list.</summary>
        public const ulong DeviceOwner = ulong.MaxValue - 1;

        public const int DefaultMaximumGrants = 65536;

        private readonly ulong[] _owners;
        private readonly uint[] _mappings;
        private readonly int[] _firstGrant;          // a node index, 0 when the frame has no grants
        // Owner lists: per frame the neighbours on its owner's list (-1 at an end); per owner slot
        // the owner id, the count and both ends (-1 when empty).
        private readonly int[] _ownedNext;
        private readonly int[] _ownedPrevious;
        private const int OwnerSlots = EnvironmentTable.Capacity + 1; // the last one is KernelOwner's
        private readonly ulong[] _ownerIds = new ulong[OwnerSlots];
        private readonly ulong[] _ownedCounts = new ulong[OwnerSlots];
        private readonly int[] _ownedFirst = new int[OwnerSlots];
        private readonly int[] _ownedLast = new int[OwnerSlots];
        // Reverse map: per frame the first mapping record (0 = none); records in one preallocated
        // array, free ones on a list through Next.
        private readonly int[] _firstMapping;
        // Per frame: the environment that gave it up with Release while others mapped it (0 when none);
        // the kernel uncharges that environment when the frame is freed (TakeReleaser).
        private readonly ulong[] _releasedBy;
        private readonly MappingNode[] _mappingNodes;
        private int _freeMapping;
        private GrantNode[] _nodes;                  // node 0 unused; all MaximumGrants made up front
        private readonly int[] _grantsByAccount = new int[EnvironmentTable.Capacity];
        private int _usedNodes = 1;                  // nodes [1, _usedNodes) were ever used
        private int _freeNode;                       // head of the free node list (through Next), 0 when empty

        /// <summary>The most page-table entries that may map one frame: finding one mapping of a frame
        /// (to remove it) walks that frame's records, so this bounds the work of every unmap.</summary>
        public const uint MaximumMappingsPerFrame = 1024;

        /// <summary>Address spaces are named by a small number (the kernel uses the environment's
        /// table slot); it is kept in the low bits of the page-aligned virtual address.</summary>
        public const ulong MaximumSpace = 4095;

        /// <summary>maximumMappings: the mapping records preallocated (0: two per frame).</summary>
        public FrameLedger(ulong frameLimit, int maximumGrants = DefaultMaximumGrants, int maximumMappings = 0)
        {
            if (frameLimit > int.MaxValue / 2) throw new ArgumentOutOfRangeException(nameof(frameLimit));
            if (maximumGrants < 0) throw new ArgumentOutOfRangeException(nameof(maximumGrants));
            if (maximumMappings < 0) throw new ArgumentOutOfRangeException(nameof(maximumMappings));
            FrameLimit = frameLimit;
            MaximumGrants = maximumGrants;
            MaximumMappings = maximumMappings == 0 ? (int)frameLimit * 2 + 16 : maximumMappings;
            _owners = new ulong[(int)frameLimit];
            _mappings = new uint[(int)frameLimit];
            _firstGrant = new int[(int)frameLimit];
            _ownedNext = new int[(int)frameLimit];
            _ownedPrevious = new int[(int)frameLimit];
            _firstMapping = new int[(int)frameLimit];
            _releasedBy = new ulong[(int)frameLimit];
            for (int slot = 0; slot < OwnerSlots; slot++)
            {
                _ownedFirst[slot] = -1;
                _ownedLast[slot] = -1;
            }
            _mappingNodes = new MappingNode[MaximumMappings + 1]; // record 0 unused
            for (int node = MaximumMappings; node >= 1; node--)
            {
                _mappingNodes[node].Next = _freeMapping;
                _freeMapping = node;
            }
            FreeMappingRecords = MaximumMappings;
            // Every grant node exists from the start: granting never allocates (the kernel's memory
            // cannot be made to grow by grants; see docs/kernel.md, "Accounts").
            _nodes = new GrantNode[maximumGrants + 1];
        }

        /// <summary>Mapping records (page-table entries the ledger can track), preallocated.</summary>
        public int MaximumMappings { get; }

        /// <summary>Mapping records not in use: a batch of n maps succeeds only if n are free.</summary>
        public int FreeMappingRecords { get; private set; }

        /// <summary>Grants made on behalf of an account (Grant's 'account'), for its quota.</summary>
        public int GrantsOf(int account) => account >= 0 && account < _grantsByAccount.Length ? _grantsByAccount[account] : 0;

        public ulong FrameLimit { get; }
        public int MaximumGrants { get; }
        public int GrantCount { get; private set; }

        /// <summary>Frames with an owner (any environment or the kernel).</summary>
        public ulong OwnedFrames { get; private set; }

        /// <summary>Frames with no owner that some page table still maps.</summary>
        public ulong OrphanedFrames { get; private set; }

        /// <summary>Frames marked as devices (MarkDevice).</summary>
        public ulong DeviceFrames { get; private set; }

        /// <summary>Marks a frame of memory-mapped hardware (never in the FrameAllocator): from now on
        /// it is DeviceOwner's (see the invariants). InvalidArgument past the limit; Busy when it is
        /// owned or mapped already (a device frame again: None, nothing changes).</summary>
        public Error MarkDevice(ulong frame)
        {
            if (frame >= FrameLimit) return Error.InvalidArgument;
            if (_owners[(int)frame] == DeviceOwner) return Error.None;
            if (_owners[(int)frame] != NoOwner || _mappings[(int)frame] != 0) return Error.Busy;
            _owners[(int)frame] = DeviceOwner;
            DeviceFrames++;
            return Error.None;
        }

        public bool IsDevice(ulong frame) => frame < FrameLimit && _owners[(int)frame] == DeviceOwner;

        /// <summary>Whether every frame of frames[0 .. count) may be mapped a second time (PageAlias:
        /// below FrameLimit, not a device frame), with the most mappings any of them has now.</summary>
        public bool MayMapAgain(ulong[] frames, int count, out uint mostMappings)
        {
            mostMappings = 0;
            if ((uint)count > (uint)frames.Length) return false;
            ulong[] owners = _owners;
            uint[] mappings = _mappings;
            ulong limit = FrameLimit;
            uint most = 0;
            for (int i = 0; i < count; i++)
            {
                ulong frame = frames[i];
                if (frame >= limit || owners[(int)frame] == DeviceOwner) return false;
                uint had = mappings[(int)frame];
                if (had > most) most = had;
            }
            mostMappings = most;
            return true;
        }

        /// <summary>Records the owner of a frame the kernel just took from the FrameAllocator.
        /// InvalidArgument for a frame past the limit or owner NoOwner; Busy when the frame is
        /// already owned or still mapped (it cannot be free in the allocator then).</summary>
        public Error Assign(ulong frame, ulong owner)
        {
            if (frame >= FrameLimit || owner == NoOwner || owner == DeviceOwner) return Error.InvalidArgument;
            if (_owners[(int)frame] != NoOwner || _mappings[(int)frame] != 0) return Error.Busy;
            int slot = OwnerSlot(owner);
            if (_ownedCounts[slot] != 0 && _ownerIds[slot] != owner) return Error.Busy;
            _ownerIds[slot] = owner;
            _owners[(int)frame] = owner;
            _releasedBy[(int)frame] = NoOwner;
            OwnedFrames++;
            // Append to the owner's list.
            int last = _ownedLast[slot];
            _ownedPrevious[(int)frame] = last;
            _ownedNext[(int)frame] = -1;
            if (last < 0) _ownedFirst[slot] = (int)frame;
            else _ownedNext[last] = (int)frame;
            _ownedLast[slot] = (int)frame;
            _ownedCounts[slot]++;
            return Error.None;
        }

        private static int OwnerSlot(ulong owner) => owner == KernelOwner ? OwnerSlots - 1 : EnvironmentTable.SlotOf(owner);

        /// <summary>The owner of every frame, indexed by frame number: the kernel's fast paths read it
        /// directly (read-only) instead of calling OwnerOf once per page.</summary>
        public ulong[] OwnerTable => _owners;

        /// <summary>The mapping count of every frame, indexed by frame number (read-only: PageShare's walk
        /// reads it directly instead of calling MappingsOf once per page).</summary>
        public uint[] MappingCountTable => _mappings;

        /// <summary>The frame's owner, NoOwner when it has none or lies past the limit.</summary>
        public ulong OwnerOf(ulong frame) => frame < FrameLimit ? _owners[(int)frame] : NoOwner;

        /// <summary>Page-table entries that map the frame now.</summary>
        public ulong MappingsOf(ulong frame) => frame < FrameLimit ? _mappings[(int)frame] : 0;

        /// <summary>May requesterId bind the frame (writable: with write permission)? None when it owns
        /// the frame or holds a grant with enough rights; NotOwner otherwise; InvalidArgument for
        /// a frame past the limit.</summary>
        public Error CheckMap(ulong frame, ulong requesterId, bool writable)
        {
            if (frame >= FrameLimit) return Error.InvalidArgument;
            if (requesterId == NoOwner || requesterId == DeviceOwner) return Error.NotOwner;
            if (_owners[(int)frame] == requesterId) return Error.None;
            int node = FindGrant(frame, requesterId);
            if (node != 0 && (!writable || _nodes[node].Writable)) return Error.None;
            return Error.NotOwner;
        }

        /// <summary>Lets granteeId bind an owned frame (read-only, or read-write when writable).
        /// Granting again replaces the rights. InvalidArgument for a frame past the limit or
        /// grantee NoOwner; NotOwner unless ownerId owns the frame; NoMemory when MaximumGrants
        /// grants exist. Granting to the owner itself changes nothing. 'account' is charged for a
        /// new grant (GrantsOf) until the grant goes.</summary>
        public Error Grant(ulong frame, ulong ownerId, ulong granteeId, bool writable, int account = 0)
        {
            if (frame >= FrameLimit || granteeId == NoOwner) return Error.InvalidArgument;
            if (ownerId == NoOwner || ownerId == DeviceOwner || _owners[(int)frame] != ownerId) return Error.NotOwner;
            if (granteeId == ownerId) return Error.None;
            int existing = FindGrant(frame, granteeId);
            if (existing != 0)
            {
                _nodes[existing].Writable = writable;
                return Error.None;
            }
            if (GrantCount >= MaximumGrants) return Error.NoMemory;
            int node = TakeNode();
            if (account < 0 || account >= _grantsByAccount.Length) account = 0;
            _nodes[node] = new GrantNode { Frame = frame, Grantee = granteeId, Writable = writable, Next = _firstGrant[(int)frame], Account = account };
            _firstGrant[(int)frame] = node;
            _grantsByAccount[account]++;
            GrantCount++;
            return Error.None;
        }

        /// <summary>Whether granteeId holds a grant on the frame, and with which rights.</summary>
        public bool IsGrantedTo(ulong frame, ulong granteeId, out bool writable)
        {
            writable = false;
            if (frame >= FrameLimit || granteeId == NoOwner) return false;
            int node = FindGrant(frame, granteeId);
            if (node == 0) return false;
            writable = _nodes[node].Writable;
            return true;
        }

        /// <summary>Records a page-table entry the kernel installed: the frame mapped at the page-aligned
        /// 'address' of address space 'space' (at most MaximumSpace). InvalidArgument for a frame past
        /// the limit, a bad space or an unaligned address; QuotaExceeded when the frame already has
        /// MaximumMappingsPerFrame mappings; NoMemory when every mapping record is in use (nothing
        /// changed then: the kernel must not install the entry).</summary>
        public Error AddMapping(ulong frame, ulong space, ulong address)
        {
            if (frame >= FrameLimit || space > MaximumSpace || (address & 4095) != 0) return Error.InvalidArgument;
            // Once a page on fork's and exec's paths: each array read once, its element by reference.
            uint[] mappings = _mappings;
            uint count = mappings[(int)frame];
            if (count >= MaximumMappingsPerFrame) return Error.QuotaExceeded;
            int node = _freeMapping;
            if (node == 0) return Error.NoMemory;
            ref MappingNode record = ref _mappingNodes[node];
            _freeMapping = record.Next;
            FreeMappingRecords--;
            record.Key = address | space;
            int[] first = _firstMapping;
            record.Next = first[(int)frame];
            first[(int)frame] = node;
            if (count == 0 && _owners[(int)frame] == NoOwner) OrphanedFrames++;
            mappings[(int)frame] = count + 1;
            return Error.None;
        }

        /// <summary>Records mappings of frames[first .. first + count) at 'address' and the pages
        /// after it in 'space', as AddMapping would one by one (PageAlias's run of pages within one
        /// leaf table, its checks done). Returns how many it recorded: all, unless a frame past the
        /// limit, a frame at MaximumMappingsPerFrame or the end of the records stops it there.</summary>
        public int AddMappingRun(ulong[] frames, int first, int count, ulong space, ulong address)
        {
            if (space > MaximumSpace || (address & 4095) != 0 || first < 0 || count <= 0 || count > frames.Length - first) return 0;
            uint[] mappings = _mappings;
            int[] heads = _firstMapping;
            MappingNode[] nodes = _mappingNodes;
            ulong limit = FrameLimit;
            int free = _freeMapping;
            int k = 0;
            for (; k < count; k++)
            {
                ulong frame = frames[first + k];
                if (frame >= limit || free == 0) break;
                uint had = mappings[(int)frame];
                if (had >= MaximumMappingsPerFrame) break;
                ref MappingNode record = ref nodes[free];
                int next = record.Next;
                record.Key = (address + (ulong)k * 4096) | space;
                record.Next = heads[(int)frame];
                heads[(int)frame] = free;
                free = next;
                if (had == 0 && _owners[(int)frame] == NoOwner) OrphanedFrames++;
                mappings[(int)frame] = had + 1;
            }
            _freeMapping = free;
            FreeMappingRecords -= k;
            return k;
        }

        /// <summary>Forgets the page-table entry mapping the frame at 'address' of 'space' (the kernel
        /// removed it). True when that was the frame's last mapping and it has no owner: the kernel
        /// must free it now. A mapping that is not recorded (or a frame past the limit) is left
        /// alone and answers false.</summary>
        public bool RemoveMapping(ulong frame, ulong space, ulong address)
        {
            if (frame >= FrameLimit || _mappings[(int)frame] == 0) return false;
            ulong key = address | space;
            int previous = 0;
            int node = _firstMapping[(int)frame];
            while (node != 0 && _mappingNodes[node].Key != key)
            {
                previous = node;
                node = _mappingNodes[node].Next;
            }
            if (node == 0) return false;
            if (previous == 0) _firstMapping[(int)frame] = _mappingNodes[node].Next;
            else _mappingNodes[previous].Next = _mappingNodes[node].Next;
            _mappingNodes[node].Key = 0;
            _mappingNodes[node].Next = _freeMapping;
            _freeMapping = node;
            FreeMappingRecords++;
            _mappings[(int)frame]--;
            if (_mappings[(int)frame] != 0 || _owners[(int)frame] != NoOwner) return false;
            OrphanedFrames--;
            return true;
        }

        /// <summary>One mapping of the frame (the most recently recorded): false when it has none.
        /// To remove them all, remove the one this answers until it answers false.</summary>
        public bool TryGetMapping(ulong frame, out ulong space, out ulong address)
        {
            space = 0;
            address = 0;
            if (frame >= FrameLimit) return false;
            int node = _firstMapping[(int)frame];
            if (node == 0) return false;
            ulong key = _mappingNodes[node].Key;
            space = key & MaximumSpace;
            address = key & ~MaximumSpace;
            return true;
        }

        /// <summary>The owner gives the frame up (FrameFree, revocation, the owner ended); its grants
        /// go. True when no mapping remains: the kernel must free it now. Otherwise it lives on,
        /// ownerless, until RemoveMapping drops its last mapping. False for a frame with no owner.</summary>
        public bool ReleaseOwnership(ulong frame)
        {
            if (frame >= FrameLimit || _owners[(int)frame] == NoOwner || _owners[(int)frame] == DeviceOwner) return false;
            int slot = OwnerSlot(_owners[(int)frame]);
            _owners[(int)frame] = NoOwner;
            OwnedFrames--;
            int previous = _ownedPrevious[(int)frame], next = _ownedNext[(int)frame];
            if (previous < 0) _ownedFirst[slot] = next;
            else _ownedNext[previous] = next;
            if (next < 0) _ownedLast[slot] = previous;
            else _ownedPrevious[next] = previous;
            _ownedCounts[slot]--;
            DropGrantsOn(frame);
            if (_mappings[(int)frame] == 0) return true;
            OrphanedFrames++;
            return false;
        }

        /// <summary>The owner gives up a frame that page tables still map (PageShare's Release): it becomes
        /// ownerless (its grants go) and returns to the pool with its last mapping, like a frame whose
        /// owner ended. The releaser is remembered until then (TakeReleaser), so the kernel keeps it
        /// charged. NotOwner unless ownerId owns the frame; Busy when nothing maps it (FrameFree it);
        /// InvalidArgument past the limit.</summary>
        public Error Release(ulong frame, ulong ownerId)
        {
            if (frame >= FrameLimit) return Error.InvalidArgument;
            if (ownerId == NoOwner || ownerId == DeviceOwner || _owners[(int)frame] != ownerId) return Error.NotOwner;
            if (_mappings[(int)frame] == 0) return Error.Busy;
            ReleaseOwnership(frame);
            _releasedBy[(int)frame] = ownerId;
            return Error.None;
        }

        /// <summary>The environment that released the frame (Release) and is still charged for it, or
        /// NoOwner; forgets it. The kernel asks when RemoveMapping answered true (the frame is freed).</summary>
        public ulong TakeReleaser(ulong frame)
        {
            if (frame >= FrameLimit) return NoOwner;
            ulong releaser = _releasedBy[(int)frame];
            _releasedBy[(int)frame] = NoOwner;
            return releaser;
        }

        /// <summary>Whether the frame was released (Release) and still waits for its last mapping to go.</summary>
        public bool IsReleased(ulong frame) => frame < FrameLimit && _releasedBy[(int)frame] != NoOwner && _owners[(int)frame] == NoOwner;

        public ulong CountOwnedBy(ulong owner)
        {
            if (owner == NoOwner || owner == DeviceOwner) return 0;
            int slot = OwnerSlot(owner);
            return _ownerIds[slot] == owner ? _ownedCounts[slot] : 0;
        }

        /// <summary>The frame owner acquired most recently (of those it still owns), or FrameLimit
        /// when it owns none. O(1).</summary>
        public ulong LastOwnedBy(ulong owner)
        {
            if (owner == NoOwner || owner == DeviceOwner) return FrameLimit;
            int slot = OwnerSlot(owner);
            if (_ownerIds[slot] != owner || _ownedLast[slot] < 0) return FrameLimit;
            return (ulong)_ownedLast[slot];
        }

        /// <summary>The frame owner acquired earliest (of those it still owns), or FrameLimit. O(1).</summary>
        public ulong FirstOwnedBy(ulong owner)
        {
            if (owner == NoOwner || owner == DeviceOwner) return FrameLimit;
            int slot = OwnerSlot(owner);
            if (_ownerIds[slot] != owner || _ownedFirst[slot] < 0) return FrameLimit;
            return (ulong)_ownedFirst[slot];
        }

        /// <summary>The next frame on the same owner's list after an owned frame (in the order
        /// they were acquired), or FrameLimit at the end. O(1).</summary>
        public ulong NextOwnedAfter(ulong frame)
        {
            if (frame >= FrameLimit || _owners[(int)frame] == NoOwner) return FrameLimit;
            int next = _ownedNext[(int)frame];
            return next < 0 ? FrameLimit : (ulong)next;
        }

        /// <summary>Every frame owner owns, in the order it acquired them (allocates: host tests only).</summary>
        public List<ulong> FramesOwnedBy(ulong owner)
        {
            List<ulong> frames = new List<ulong>((int)CountOwnedBy(owner));
            for (ulong frame = FirstOwnedBy(owner); frame < FrameLimit; frame = NextOwnedAfter(frame))
                frames.Add(frame);
            return frames;
        }

        /// <summary>Removes every grant naming granteeId (it ended). Its existing mappings stay
        /// counted until the kernel removes them. Returns how many grants went.</summary>
        public int DropGrantsTo(ulong granteeId)
        {
            if (granteeId == NoOwner) return 0;
            int dropped = 0;
            for (int node = 1; node < _usedNodes; node++)
            {
                if (_nodes[node].Grantee != granteeId) continue;
                Unlink(_nodes[node].Frame, node);
                dropped++;
            }
            return dropped;
        }

        private int FindGrant(ulong frame, ulong granteeId)
        {
            for (int node = _firstGrant[(int)frame]; node != 0; node = _nodes[node].Next)
                if (_nodes[node].Grantee == granteeId) return node;
            return 0;
        }

        private void DropGrantsOn(ulong frame)
        {
            int node = _firstGrant[(int)frame];
            _firstGrant[(int)frame] = 0;
            while (node != 0)
            {
                int next = _nodes[node].Next;
                ReturnNode(node);
                node = next;
            }
        }

        private void Unlink(ulong frame, int target)
        {
            int previous = 0;
            for (int node = _firstGrant[(int)frame]; node != 0; previous = node, node = _nodes[node].Next)
            {
                if (node != target) continue;
                if (previous == 0) _firstGrant[(int)frame] = _nodes[node].Next;
                else _nodes[previous].Next = _nodes[node].Next;
                ReturnNode(node);
                return;
            }
        }

        private int TakeNode()
        {
            if (_freeNode != 0)
            {
                int reused = _freeNode;
                _freeNode = _nodes[reused].Next;
                return reused;
            }
            if (_usedNodes == _nodes.Length)
            {
                GrantNode[] larger = new GrantNode[_nodes.Length * 2];
                Array.Copy(_nodes, larger, _nodes.Length);
                _nodes = larger;
            }
            return _usedNodes++;
        }

        private void ReturnNode(int node)
        {
            _grantsByAccount[_nodes[node].Account]--;
            _nodes[node] = new GrantNode { Next = _freeNode };
            _freeNode = node;
            GrantCount--;
        }

        /// <summary>One mapping: Key = page-aligned virtual address | address space.</summary>
        private struct MappingNode
        {
            public ulong Key;
            public int Next;
        }

        /// <summary>One grant; a node on the free list has Grantee NoOwner.</summary>
        private struct GrantNode
        {
            public ulong Frame;
            public ulong Grantee;
            public bool Writable;
            public int Next;
            public int Account;
        }
    }
}
