// FrameLedger: who may bind which physical frame (secure bindings for memory). For each frame
// below FrameLimit it records the owner (an environment id, KernelOwner, or NoOwner), how many
// page-table entries map it, and the environments the owner granted it to (read-only or
// read-write). The kernel asks CheckMap before it installs a mapping and reports every
// mapping it installs or removes; the ledger says when a frame is no longer used by anyone
// and must go back to the FrameAllocator.
//
// Invariants (for the frames the kernel records here):
//   - a frame is free in the FrameAllocator iff it has no owner and no mappings: the kernel
//     frees a frame exactly when RemoveMapping or ReleaseOwnership answers true, and either
//     answers true only on the transition to "no owner, no mappings", so at most once;
//   - mapping counts never go below zero (RemoveMapping of an unmapped frame changes nothing);
//   - only an owned frame has grants; ReleaseOwnership drops them;
//   - OwnedFrames == the sum of CountOwnedBy over all owners, and OrphanedFrames == the frames
//     with no owner that are still mapped (their owner gave them up or ended while another
//     mapping lived on), so OwnedFrames + OrphanedFrames + free frames == every frame handed
//     out (kernel frames count when assigned to KernelOwner);
//   - GrantCount <= MaximumGrants, so no environment can make the kernel's memory grow without bound.
// Memory: 16 bytes per frame (owner, mapping count, first grant) plus 24 bytes per grant.
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

        public const int DefaultMaximumGrants = 65536;

        private readonly ulong[] _owners;
        private readonly uint[] _mappings;
        private readonly int[] _firstGrant;          // a node index, 0 when the frame has no grants
        private readonly Dictionary<ulong, ulong> _ownedCounts = new Dictionary<ulong, ulong>();
        private GrantNode[] _nodes;                  // node 0 unused; all MaximumGrants made up front
        private readonly int[] _grantsByAccount = new int[EnvironmentTable.Capacity];
        private int _usedNodes = 1;                  // nodes [1, _usedNodes) were ever used
        private int _freeNode;                       // head of the free node list (through Next), 0 when empty

        public FrameLedger(ulong frameLimit, int maximumGrants = DefaultMaximumGrants)
        {
            if (frameLimit > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(frameLimit));
            if (maximumGrants < 0) throw new ArgumentOutOfRangeException(nameof(maximumGrants));
            FrameLimit = frameLimit;
            MaximumGrants = maximumGrants;
            _owners = new ulong[(int)frameLimit];
            _mappings = new uint[(int)frameLimit];
            _firstGrant = new int[(int)frameLimit];
            // Every node exists from the start: granting never allocates (the kernel's memory
            // cannot be made to grow by grants; see docs/kernel.md, "Accounts").
            _nodes = new GrantNode[maximumGrants + 1];
        }

        /// <summary>Grants made on behalf of an account (Grant's 'account'), for its quota.</summary>
        public int GrantsOf(int account) => account >= 0 && account < _grantsByAccount.Length ? _grantsByAccount[account] : 0;

        public ulong FrameLimit { get; }
        public int MaximumGrants { get; }
        public int GrantCount { get; private set; }

        /// <summary>Frames with an owner (any environment or the kernel).</summary>
        public ulong OwnedFrames { get; private set; }

        /// <summary>Frames with no owner that some page table still maps.</summary>
        public ulong OrphanedFrames { get; private set; }

        /// <summary>Records the owner of a frame the kernel just took from the FrameAllocator.
        /// InvalidArgument for a frame past the limit or owner NoOwner; Busy when the frame is
        /// already owned or still mapped (it cannot be free in the allocator then).</summary>
        public Error Assign(ulong frame, ulong owner)
        {
            if (frame >= FrameLimit || owner == NoOwner) return Error.InvalidArgument;
            if (_owners[(int)frame] != NoOwner || _mappings[(int)frame] != 0) return Error.Busy;
            _owners[(int)frame] = owner;
            OwnedFrames++;
            _ownedCounts.TryGetValue(owner, out ulong count);
            _ownedCounts[owner] = count + 1;
            return Error.None;
        }

        /// <summary>The owner of every frame, indexed by frame number: the kernel's fast paths read it
        /// directly (read-only) instead of calling OwnerOf once per page.</summary>
        public ulong[] OwnerTable => _owners;

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
            if (requesterId == NoOwner) return Error.NotOwner;
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
            if (ownerId == NoOwner || _owners[(int)frame] != ownerId) return Error.NotOwner;
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

        /// <summary>Counts a page-table entry the kernel installed for the frame. False (nothing
        /// changed) for a frame past the limit or a count that would overflow.</summary>
        public bool AddMapping(ulong frame)
        {
            if (frame >= FrameLimit || _mappings[(int)frame] == uint.MaxValue) return false;
            if (_mappings[(int)frame] == 0 && _owners[(int)frame] == NoOwner) OrphanedFrames++;
            _mappings[(int)frame]++;
            return true;
        }

        /// <summary>Counts a page-table entry the kernel removed. True when that was the frame's last
        /// mapping and it has no owner: the kernel must free it now. An unmapped frame (or one past
        /// the limit) is left alone and answers false.</summary>
        public bool RemoveMapping(ulong frame)
        {
            if (frame >= FrameLimit || _mappings[(int)frame] == 0) return false;
            _mappings[(int)frame]--;
            if (_mappings[(int)frame] != 0 || _owners[(int)frame] != NoOwner) return false;
            OrphanedFrames--;
            return true;
        }

        /// <summary>The owner gives the frame up (FrameFree, revocation, the owner ended); its grants
        /// go. True when no mapping remains: the kernel must free it now. Otherwise it lives on,
        /// ownerless, until RemoveMapping drops its last mapping. False for a frame with no owner.</summary>
        public bool ReleaseOwnership(ulong frame)
        {
            if (frame >= FrameLimit || _owners[(int)frame] == NoOwner) return false;
            ulong owner = _owners[(int)frame];
            _owners[(int)frame] = NoOwner;
            OwnedFrames--;
            ulong count = _ownedCounts[owner] - 1;
            if (count == 0) _ownedCounts.Remove(owner);
            else _ownedCounts[owner] = count;
            DropGrantsOn(frame);
            if (_mappings[(int)frame] == 0) return true;
            OrphanedFrames++;
            return false;
        }

        public ulong CountOwnedBy(ulong owner)
        {
            if (owner == NoOwner) return 0;
            _ownedCounts.TryGetValue(owner, out ulong count);
            return count;
        }

        /// <summary>The lowest frame at or after startFrame owned by owner, or FrameLimit when there is
        /// none: walks an owner's frames without allocating.</summary>
        public ulong NextOwnedBy(ulong owner, ulong startFrame)
        {
            if (owner == NoOwner) return FrameLimit;
            for (ulong frame = startFrame; frame < FrameLimit; frame++)
                if (_owners[(int)frame] == owner) return frame;
            return FrameLimit;
        }

        /// <summary>Every frame owner owns, lowest first.</summary>
        public List<ulong> FramesOwnedBy(ulong owner)
        {
            List<ulong> frames = new List<ulong>((int)CountOwnedBy(owner));
            for (ulong frame = NextOwnedBy(owner, 0); frame < FrameLimit; frame = NextOwnedBy(owner, frame + 1))
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
