// PacketFilterSet: every installed packet filter (issue #12, "DPF"; docs/network-filters.md),
// merged into one decision structure that classifies a received frame: which filter accepts it,
// hence which environment (the filter's owner) receives it. The kernel knows no protocol; a filter
// is a conjunction of FilterAtoms (FilterAtoms.cs has their rules). Classify walks the structure
// (the interpreter); Compile turns it into x86-64 code that gives the same answers
// (FilterCompiler.cs).
//
// The merged structure is a trie of nodes and branches, built from each filter's atoms in the
// canonical order (sorted, exact duplicates once):
//   - a node is a set of tests already passed (the path from the root). It holds the filters
//     whose atoms are exactly that path (its accept list) and a list of branches;
//   - a branch tests one field (base, offset, width, mask) and leads, for each value the field
//     is compared with, to one child node. The (branch, value) -> child edges live in one hash
//     table (open addressing, linear probing), so a branch with 1,000 values costs one field read
//     and one lookup: classification does not grow with the filters that share a field;
//   - classification visits the root, then, for every branch of a node it reached, reads the
//     field and goes on in the child for its value (if any). Every accepting filter is on the path
//     of a node reached; the winner is the one with the most atoms, ties to the lower id. The walk
//     needs no stack: a node's parent branch says where to go on when the node is done.
//
// Invariants (kept by Add and Remove, relied on by Classify and the compiler):
//   - node 0 is the root; every other node in use has a parent branch, and either accepts a
//     filter or has a branch (empty nodes and branches without children are pruned at once), so
//     every child of a branch leads to at least one filter and a branch has at most as many
//     children as there are filters;
//   - the branches of a node test pairwise different fields and are kept in canonical field
//     order; the children of a branch have pairwise different values;
//   - the filters of one accept list have identical canonical atoms, hence one owner, and are
//     kept in increasing id order (the head is the node's winner);
//   - when filters of two different owners could both accept a frame, one of them was delegated
//     by the other's owner (AddDelegated: it gives away part of what it owns) and has more atoms,
//     so it wins every such frame; any other pair of owners' filters is proved disjoint by some
//     atom pair (Add and AddDelegated refuse the rest: Overlap);
//   - the edge table has no deleted markers (Remove shifts entries back), so a probe stops at the
//     first empty slot; it is at most half full (twice the node pool's slots).
//
// Memory: everything is allocated by the constructor. Add, Remove, RemoveAll, Classify and
// Compile allocate nothing; Add answers Full when a filter slot or the nodes it needs are missing,
// and changes nothing on any refusal.
using System;
using Aegis.Abi;

namespace Aegis.Kernel.Core.Net
{
    public sealed unsafe class PacketFilterSet
    {
        /// <summary>The root node (the empty path: nothing tested yet).</summary>
        public const int Root = 0;
        private const int None = -1;

        private readonly int _filterCapacity;
        private readonly bool[] _filterInUse;
        private readonly ulong[] _filterOwner;
        private readonly ulong[] _filterDelegator; // 0: installed by its owner
        private readonly int[] _filterAtomCount;
        private readonly FilterAtom[] _filterAtoms; // filter i's canonical atoms at i * MaximumAtoms
        private readonly int[] _filterNode;
        private readonly int[] _filterNextAccept;

        private readonly int _nodeCapacity;
        private readonly int[] _nodeParentBranch;
        private readonly uint[] _nodeValue;
        private readonly int[] _nodeFirstBranch;
        private readonly int[] _nodeFirstAccept;
        private readonly int[] _nodeNextChild; // the next child of the parent branch; the free list's link
        private int _freeNode;

        private readonly int[] _branchNode;
        private readonly FilterAtom[] _branchField; // Value unused
        private readonly int[] _branchNext; // the next branch of the node; the free list's link
        private readonly int[] _branchFirstChild;
        private readonly int[] _branchChildren;
        private int _freeBranch;

        private readonly int[] _edgeBranch; // None: empty
        private readonly uint[] _edgeValue;
        private readonly int[] _edgeChild;
        private readonly int _edgeBits;

        private readonly FilterAtom[] _canonical = new FilterAtom[NetworkLimits.MaximumAtoms];
        private readonly FilterCompiler _compiler;

        /// <summary>Filters installed.</summary>
        public int Count { get; private set; }
        /// <summary>Nodes in use, the root included.</summary>
        public int NodesInUse { get; private set; }
        /// <summary>Branches in use.</summary>
        public int BranchesInUse { get; private set; }
        /// <summary>Branches that test a transport-based field (the compiled code then finds the
        /// transport base first).</summary>
        internal int TransportBranches { get; private set; }
        public int FilterCapacity => _filterCapacity;
        public int NodeCapacity => _nodeCapacity;

        /// <summary>A set of at most filterCapacity filters (1..NetworkLimits.MaximumFilters) whose
        /// merged structure has at most nodeCapacity nodes (the root included; a filter of n atoms
        /// needs at most n nodes of its own). The default covers every filter at its longest.</summary>
        public PacketFilterSet(int filterCapacity = NetworkLimits.MaximumFilters, int nodeCapacity = 0)
        {
            if (filterCapacity < 1 || filterCapacity > NetworkLimits.MaximumFilters)
                throw new ArgumentOutOfRangeException(nameof(filterCapacity));
            if (nodeCapacity == 0) nodeCapacity = filterCapacity * NetworkLimits.MaximumAtoms + 1;
            if (nodeCapacity < 2) throw new ArgumentOutOfRangeException(nameof(nodeCapacity));
            _filterCapacity = filterCapacity;
            _filterInUse = new bool[filterCapacity];
            _filterOwner = new ulong[filterCapacity];
            _filterDelegator = new ulong[filterCapacity];
            _filterAtomCount = new int[filterCapacity];
            _filterAtoms = new FilterAtom[filterCapacity * NetworkLimits.MaximumAtoms];
            _filterNode = new int[filterCapacity];
            _filterNextAccept = new int[filterCapacity];

            _nodeCapacity = nodeCapacity;
            _nodeParentBranch = new int[nodeCapacity];
            _nodeValue = new uint[nodeCapacity];
            _nodeFirstBranch = new int[nodeCapacity];
            _nodeFirstAccept = new int[nodeCapacity];
            _nodeNextChild = new int[nodeCapacity];

            int branchCapacity = nodeCapacity - 1; // every branch has a child, and the root is no one's
            _branchNode = new int[branchCapacity];
            _branchField = new FilterAtom[branchCapacity];
            _branchNext = new int[branchCapacity];
            _branchFirstChild = new int[branchCapacity];
            _branchChildren = new int[branchCapacity];

            _edgeBits = 1;
            while ((1 << _edgeBits) < 2 * nodeCapacity) _edgeBits++;
            _edgeBranch = new int[1 << _edgeBits];
            _edgeValue = new uint[1 << _edgeBits];
            _edgeChild = new int[1 << _edgeBits];

            _compiler = new FilterCompiler(this);
            Clear();
        }

        /// <summary>Removes every filter.</summary>
        public void Clear()
        {
            for (int i = 0; i < _filterCapacity; i++) { _filterInUse[i] = false; _filterOwner[i] = 0; _filterDelegator[i] = 0; _filterNextAccept[i] = None; }
            for (int n = 0; n < _nodeCapacity; n++)
            {
                _nodeParentBranch[n] = None; _nodeFirstBranch[n] = None; _nodeFirstAccept[n] = None;
                _nodeNextChild[n] = n + 1 < _nodeCapacity ? n + 1 : None;
            }
            _freeNode = 1; // the root is always in use
            _nodeNextChild[Root] = None;
            for (int b = 0; b < _branchNode.Length; b++)
            {
                _branchNode[b] = None; _branchFirstChild[b] = None; _branchChildren[b] = 0;
                _branchNext[b] = b + 1 < _branchNode.Length ? b + 1 : None;
            }
            _freeBranch = _branchNode.Length > 0 ? 0 : None;
            for (int e = 0; e < _edgeBranch.Length; e++) _edgeBranch[e] = None;
            Count = 0;
            NodesInUse = 1;
            BranchesInUse = 0;
            TransportBranches = 0;
        }

        public bool IsInstalled(int id) => id >= 0 && id < _filterCapacity && _filterInUse[id];

        /// <summary>The owner of an installed filter (0 for an id that names none).</summary>
        public ulong OwnerOf(int id) => IsInstalled(id) ? _filterOwner[id] : 0;

        /// <summary>Who gave an installed filter to its owner (AddDelegated), or 0: its owner installed
        /// it, or the id names none.</summary>
        public ulong DelegatorOf(int id) => IsInstalled(id) ? _filterDelegator[id] : 0;

        /// <summary>The atoms that decide between one owner's overlapping filters: the filter's
        /// distinct atoms (exact duplicates once). 0 for an id that names none.</summary>
        public int AtomCountOf(int id) => IsInstalled(id) ? _filterAtomCount[id] : 0;

        /// <summary>Installs a filter of owner's. Refused (nothing changes): the atoms are not a valid
        /// filter (FilterAtoms.Check's reasons); another owner's filter could accept a frame this one
        /// accepts (Overlap, with that owner in conflictingOwner); no filter slot or not enough nodes
        /// (Full). On success id names the filter (the lowest free slot).</summary>
        public FilterError Add(ulong owner, ReadOnlySpan<FilterAtom> atoms, out int id, out ulong conflictingOwner)
            => Install(owner, 0, atoms, out id, out conflictingOwner);

        /// <summary>Installs a filter that delegator gives to owner: part of the frames delegator's
        /// own filters accept (a TCP connection out of a port it holds). Refused (nothing changes)
        /// as Add, and also: NotCovered when no filter of delegator's accepts every frame this one
        /// accepts; Overlap when a filter of delegator's that could accept one of its frames has
        /// as many atoms or more (this one would not win every frame it is given), or when any
        /// other owner's filter could accept one of its frames. The filter is owner's (its frames
        /// go to owner; owner or delegator may remove it); delegator's filters keep every other frame.</summary>
        public FilterError AddDelegated(ulong delegator, ulong owner, ReadOnlySpan<FilterAtom> atoms, out int id, out ulong conflictingOwner)
        {
            id = None;
            conflictingOwner = 0;
            if (delegator == 0 || delegator == owner) return FilterError.NotCovered;
            return Install(owner, delegator, atoms, out id, out conflictingOwner);
        }

        private FilterError Install(ulong owner, ulong delegator, ReadOnlySpan<FilterAtom> atoms, out int id, out ulong conflictingOwner)
        {
            id = None;
            conflictingOwner = 0;
            FilterError error = FilterAtoms.Check(atoms, out _);
            if (error != FilterError.None) return error;
            int count = FilterAtoms.Canonicalize(atoms, _canonical);
            ReadOnlySpan<FilterAtom> canonical = new ReadOnlySpan<FilterAtom>(_canonical, 0, count);

            if (delegator != 0)
            {
                // Only what the delegator owns can be given: one of its filters accepts every frame this one does.
                bool covered = false;
                for (int other = 0; other < _filterCapacity && !covered; other++)
                    covered = _filterInUse[other] && _filterOwner[other] == delegator && FilterAtoms.Implies(canonical, AtomsOf(other));
                if (!covered) return FilterError.NotCovered;
            }
            for (int other = 0; other < _filterCapacity; other++)
            {
                if (!_filterInUse[other] || _filterOwner[other] == owner) continue;
                if (ProvedDisjoint(canonical, AtomsOf(other))) continue;
                // Overlapping another owner's filter is allowed only between a delegated filter and
                // its delegator's, the delegated one with more atoms: it wins each frame both accept.
                bool givenByUs = _filterDelegator[other] == owner && _filterAtomCount[other] > count;
                bool givenToUs = delegator != 0 && _filterOwner[other] == delegator && _filterAtomCount[other] < count;
                if (givenByUs || givenToUs) continue;
                conflictingOwner = _filterOwner[other];
                return FilterError.Overlap;
            }

            int slot = None;
            for (int i = 0; i < _filterCapacity && slot == None; i++) if (!_filterInUse[i]) slot = i;
            if (slot == None) return FilterError.Full;
            CountMissing(canonical, out int nodesNeeded, out int branchesNeeded);
            if (nodesNeeded > _nodeCapacity - NodesInUse || branchesNeeded > _branchNode.Length - BranchesInUse)
                return FilterError.Full;

            int node = Root;
            for (int i = 0; i < count; i++)
            {
                int branch = FindBranch(node, canonical[i]);
                if (branch == None) branch = NewBranch(node, canonical[i]);
                int child = FindChild(branch, canonical[i].Value);
                if (child == None) child = NewNode(branch, canonical[i].Value);
                node = child;
            }
            _filterInUse[slot] = true;
            _filterOwner[slot] = owner;
            _filterDelegator[slot] = delegator;
            _filterAtomCount[slot] = count;
            canonical.CopyTo(new Span<FilterAtom>(_filterAtoms, slot * NetworkLimits.MaximumAtoms, NetworkLimits.MaximumAtoms));
            _filterNode[slot] = node;
            InsertAccept(node, slot);
            Count++;
            id = slot;
            return FilterError.None;
        }

        /// <summary>Removes one filter (NoSuchFilter when id names none).</summary>
        public FilterError Remove(int id)
        {
            if (!IsInstalled(id)) return FilterError.NoSuchFilter;
            int node = _filterNode[id];
            int previous = None;
            for (int f = _nodeFirstAccept[node]; f != id; f = _filterNextAccept[f]) previous = f;
            if (previous == None) _nodeFirstAccept[node] = _filterNextAccept[id];
            else _filterNextAccept[previous] = _filterNextAccept[id];
            _filterNextAccept[id] = None;
            _filterInUse[id] = false;
            _filterOwner[id] = 0;
            _filterDelegator[id] = 0;
            _filterNode[id] = None;
            Count--;
            Prune(node);
            return FilterError.None;
        }

        /// <summary>Removes every filter of owner's (its environment ended); returns how many.</summary>
        public int RemoveAll(ulong owner)
        {
            int removed = 0;
            for (int id = 0; id < _filterCapacity; id++)
            {
                if (!_filterInUse[id] || _filterOwner[id] != owner) continue;
                Remove(id);
                removed++;
            }
            return removed;
        }

        /// <summary>The filter that accepts the frame (length bytes at frame), or -1.</summary>
        public int Classify(byte* frame, int length) => Classify(frame, length, out _);

        /// <summary>Classify, also counting the fields it tested (a field read and one lookup of
        /// the value each): the interpreter's cost for this frame.</summary>
        public int Classify(byte* frame, int length, out int fieldTests)
        {
            fieldTests = 0;
            long transport = TransportBranches > 0 ? FilterAtoms.TransportStart(frame, length) : FilterAtoms.NoTransport;
            int best = None;
            uint bestRank = 0;
            int node = Root;
            int branch = _nodeFirstBranch[Root];
            while (true)
            {
                if (branch == None)
                {
                    if (node == Root) return best;
                    int parent = _nodeParentBranch[node];
                    node = _branchNode[parent];
                    branch = _branchNext[parent];
                    continue;
                }
                fieldTests++;
                FilterAtom field = _branchField[branch];
                long start = field.Base == (byte)FilterBase.Frame ? 0 : transport;
                if (FilterAtoms.TryRead(frame, length, start, field.Offset, field.Width, out uint value))
                {
                    int child = FindChild(branch, value & field.Mask);
                    if (child != None)
                    {
                        node = child;
                        int accept = _nodeFirstAccept[node];
                        if (accept != None && RankOf(accept) > bestRank) { best = accept; bestRank = RankOf(accept); }
                        branch = _nodeFirstBranch[node];
                        continue;
                    }
                }
                branch = _branchNext[branch];
            }
        }

        /// <summary>Compiles the merged structure to x86-64 code (FilterCompiler.cs) into code
        /// (capacity bytes). False when it does not fit (size is then the bytes it needs) or a
        /// multi-way table could not be laid out (size 0): keep using Classify.</summary>
        public bool Compile(byte* code, int capacity, out int size) => _compiler.Compile(code, capacity, out size);

        /// <summary>The longest probe sequence in the edge table (a diagnostic: lookups stay short).</summary>
        public int LongestProbe()
        {
            int longest = 0;
            int mask = _edgeBranch.Length - 1;
            for (int slot = 0; slot < _edgeBranch.Length; slot++)
            {
                if (_edgeBranch[slot] == None) continue;
                int distance = ((slot - EdgeHome(_edgeBranch[slot], _edgeValue[slot])) & mask) + 1;
                if (distance > longest) longest = distance;
            }
            return longest;
        }

        /// <summary>The winner order: more atoms first, then the lower id (a larger rank wins; every
        /// rank is above 0).</summary>
        internal uint RankOf(int filter) => (uint)_filterAtomCount[filter] << 16 | (uint)(0xFFFF - filter);

        // The structure, for the compiler (read only).
        internal int FirstBranchOf(int node) => _nodeFirstBranch[node];
        internal int WinnerAt(int node) => _nodeFirstAccept[node];
        internal uint ValueOf(int node) => _nodeValue[node];
        internal int NextChildOf(int node) => _nodeNextChild[node];
        internal int NextBranchOf(int branch) => _branchNext[branch];
        internal FilterAtom FieldOf(int branch) => _branchField[branch];
        internal int FirstChildOf(int branch) => _branchFirstChild[branch];
        internal int ChildrenOf(int branch) => _branchChildren[branch];
        internal int BranchCapacity => _branchNode.Length;

        private ReadOnlySpan<FilterAtom> AtomsOf(int filter) =>
            new ReadOnlySpan<FilterAtom>(_filterAtoms, filter * NetworkLimits.MaximumAtoms, _filterAtomCount[filter]);

        /// <summary>Some atom of a and some atom of b contradict: no frame satisfies both filters.</summary>
        private static bool ProvedDisjoint(ReadOnlySpan<FilterAtom> a, ReadOnlySpan<FilterAtom> b)
        {
            for (int i = 0; i < a.Length; i++)
                for (int j = 0; j < b.Length; j++)
                    if (FilterAtoms.Contradict(a[i], b[j])) return true;
            return false;
        }

        /// <summary>The nodes and branches Add must take from the pools for the path of atoms.</summary>
        private void CountMissing(ReadOnlySpan<FilterAtom> atoms, out int nodes, out int branches)
        {
            int node = Root;
            for (int i = 0; i < atoms.Length; i++)
            {
                int branch = FindBranch(node, atoms[i]);
                int child = branch == None ? None : FindChild(branch, atoms[i].Value);
                if (child == None)
                {
                    nodes = atoms.Length - i;
                    branches = branch == None ? nodes : nodes - 1;
                    return;
                }
                node = child;
            }
            nodes = 0;
            branches = 0;
        }

        private int FindBranch(int node, in FilterAtom field)
        {
            for (int b = _nodeFirstBranch[node]; b != None; b = _branchNext[b])
                if (FilterAtoms.CompareField(_branchField[b], field) == 0) return b;
            return None;
        }

        /// <summary>A new branch of node testing field, linked in canonical field order.</summary>
        private int NewBranch(int node, in FilterAtom field)
        {
            int branch = _freeBranch;
            _freeBranch = _branchNext[branch];
            FilterAtom key = field;
            key.Value = 0;
            _branchField[branch] = key;
            _branchNode[branch] = node;
            _branchFirstChild[branch] = None;
            _branchChildren[branch] = 0;
            int previous = None;
            for (int b = _nodeFirstBranch[node]; b != None && FilterAtoms.CompareField(_branchField[b], key) < 0; b = _branchNext[b])
                previous = b;
            if (previous == None) { _branchNext[branch] = _nodeFirstBranch[node]; _nodeFirstBranch[node] = branch; }
            else { _branchNext[branch] = _branchNext[previous]; _branchNext[previous] = branch; }
            BranchesInUse++;
            if (key.Base == (byte)FilterBase.Transport) TransportBranches++;
            return branch;
        }

        private int NewNode(int branch, uint value)
        {
            int node = _freeNode;
            _freeNode = _nodeNextChild[node];
            _nodeParentBranch[node] = branch;
            _nodeValue[node] = value;
            _nodeFirstBranch[node] = None;
            _nodeFirstAccept[node] = None;
            _nodeNextChild[node] = _branchFirstChild[branch];
            _branchFirstChild[branch] = node;
            _branchChildren[branch]++;
            EdgeInsert(branch, value, node);
            NodesInUse++;
            return node;
        }

        private void InsertAccept(int node, int filter)
        {
            int previous = None;
            for (int f = _nodeFirstAccept[node]; f != None && f < filter; f = _filterNextAccept[f]) previous = f;
            if (previous == None) { _filterNextAccept[filter] = _nodeFirstAccept[node]; _nodeFirstAccept[node] = filter; }
            else { _filterNextAccept[filter] = _filterNextAccept[previous]; _filterNextAccept[previous] = filter; }
        }

        /// <summary>Frees node and then its ancestors while they accept nothing and have no branch.</summary>
        private void Prune(int node)
        {
            while (node != Root && _nodeFirstAccept[node] == None && _nodeFirstBranch[node] == None)
            {
                int branch = _nodeParentBranch[node];
                EdgeRemove(branch, _nodeValue[node]);
                int previous = None;
                for (int c = _branchFirstChild[branch]; c != node; c = _nodeNextChild[c]) previous = c;
                if (previous == None) _branchFirstChild[branch] = _nodeNextChild[node];
                else _nodeNextChild[previous] = _nodeNextChild[node];
                _branchChildren[branch]--;
                _nodeParentBranch[node] = None;
                _nodeNextChild[node] = _freeNode;
                _freeNode = node;
                NodesInUse--;
                if (_branchChildren[branch] > 0) return;

                node = _branchNode[branch];
                int before = None;
                for (int b = _nodeFirstBranch[node]; b != branch; b = _branchNext[b]) before = b;
                if (before == None) _nodeFirstBranch[node] = _branchNext[branch];
                else _branchNext[before] = _branchNext[branch];
                if (_branchField[branch].Base == (byte)FilterBase.Transport) TransportBranches--;
                _branchNode[branch] = None;
                _branchNext[branch] = _freeBranch;
                _freeBranch = branch;
                BranchesInUse--;
            }
        }

        private int EdgeHome(int branch, uint value)
        {
            uint hash = value * 0x9E3779B1u + (uint)branch * 0x85EBCA6Bu;
            hash ^= hash >> 15;
            hash *= 0x2C1B3C6Du;
            return (int)(hash >> (32 - _edgeBits));
        }

        private int FindChild(int branch, uint value)
        {
            int mask = _edgeBranch.Length - 1;
            for (int slot = EdgeHome(branch, value); ; slot = (slot + 1) & mask)
            {
                int at = _edgeBranch[slot];
                if (at == None) return None;
                if (at == branch && _edgeValue[slot] == value) return _edgeChild[slot];
            }
        }

        private void EdgeInsert(int branch, uint value, int child)
        {
            int mask = _edgeBranch.Length - 1;
            int slot = EdgeHome(branch, value);
            while (_edgeBranch[slot] != None) slot = (slot + 1) & mask;
            _edgeBranch[slot] = branch;
            _edgeValue[slot] = value;
            _edgeChild[slot] = child;
        }

        /// <summary>Deletes an edge and shifts the entries after it back (no deleted markers).</summary>
        private void EdgeRemove(int branch, uint value)
        {
            int mask = _edgeBranch.Length - 1;
            int hole = EdgeHome(branch, value);
            while (_edgeBranch[hole] != branch || _edgeValue[hole] != value) hole = (hole + 1) & mask;
            for (int next = (hole + 1) & mask; _edgeBranch[next] != None; next = (next + 1) & mask)
            {
                int home = EdgeHome(_edgeBranch[next], _edgeValue[next]);
                // The entry at next may fill the hole only if its home is not cyclically in (hole, next].
                bool homeBetween = hole <= next ? hole < home && home <= next : hole < home || home <= next;
                if (homeBetween) continue;
                _edgeBranch[hole] = _edgeBranch[next];
                _edgeValue[hole] = _edgeValue[next];
                _edgeChild[hole] = _edgeChild[next];
                hole = next;
            }
            _edgeBranch[hole] = None;
        }
    }
}
