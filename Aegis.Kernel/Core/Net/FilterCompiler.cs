// FilterCompiler: PacketFilterSet's merged structure as x86-64 machine code (docs/network-filters.md,
// "The code"). The code is one function, System V convention:
//
//     int classify(byte* frame /* rdi */, int length /* esi */)   // the accepting filter's id, or -1
//
// It makes no call, touches no stack and no memory but the frame and its own buffer, and is
// position independent (its tables are read RIP-relative and hold offsets from the code's
// start), so it may be copied anywhere. It gives the answer PacketFilterSet.Classify gives for
// every frame: it walks the same trie in the same order.
//
// Registers: rdi frame; rsi length (sign-extended: a negative length fails every bounds check);
// eax the best filter so far (-1); edx its rank (0: none; PacketFilterSet.RankOf); r8 the
// transport base, or FilterAtoms.NoTransport (2^32, past any frame); ecx the field; r9, r10, r11
// scratch. Only caller-saved registers are written.
//
// Layout: the prologue, then each node's code in depth-first order, the trie's shape made
// straight-line code:
//   node:    [accept: if rank > edx then edx = rank, eax = id]  branch ... branch
//            (where edx is known at compile time — on the way down a node's first branches,
//            entered only from its parent — the comparison is decided then: just the moves, and
//            only eax when a ret follows)
//   branch:  bounds check (else to the next branch) ; load, byte-swap, mask the field into ecx ;
//            one child:      cmp ecx, value ; jne next ; <the child's node inline>
//            2..3 children:  cmp ecx, value ; je child (each) ; jmp next ; <each child's node>
//            more:           a hash lookup in the branch's table, jmp to the child ; <children>
// where "next" is the next branch of the same node, or when there is none the place the node's
// parent goes on (finally "ret"). A node's code always ends in a jmp to where it goes on (a ret
// when that is the end); the jmp is dropped when that is the next instruction. After the code:
// the hash tables, 32-byte aligned. A table has 2^bits buckets of 4 entries (32-bit value, 32-bit
// offset of the child's code from the table's start); bucket = (value * multiplier mod 2^32) >>
// (32 - bits). Unused entries hold value 0 and the offset of "next", so a lookup is four compares
// at most (each entry addressed by displacement, each hit with its own landing), no loop. Each table's multiplier and size are searched at compile time until no
// bucket holds more than four values (constant time for any number of children).
//
// Allocates only in its constructor (labels, jump fields, the bucket counts).
using Aegis.Abi;

namespace Aegis.Kernel.Core.Net
{
    internal sealed unsafe class FilterCompiler
    {
        /// <summary>Children a branch compares one by one; above it, a hash table.</summary>
        public const int CompareChainLimit = 3;
        private const int BucketEntries = 4;
        private const int EntryBytes = 8;
        private const int BucketShift = 5; // 32-byte buckets
        private const int MultiplierTries = 32;
        private const int ExtraBits = 3; // a table may grow to 8 times its first size
        private const int None = -1;
        private const long Unknown = -1; // edx not known at compile time

        private readonly PacketFilterSet _set;
        private readonly X64Code _code;
        private readonly int _nodeCapacity;
        private readonly int _branchCapacity;
        private readonly int[] _bucketFill;
        private readonly int _maximumBits;
        private readonly int[] _tableBranches; // hash branches, in the order their code was emitted
        private readonly uint[] _tableMultiplier; // by branch
        private readonly int[] _tableBits; // by branch
        private readonly int[] _tableMiss; // by branch: the label a miss goes to
        private int _tables;
        private bool _layoutFailed;

        public FilterCompiler(PacketFilterSet set)
        {
            _set = set;
            _nodeCapacity = set.NodeCapacity;
            _branchCapacity = set.BranchCapacity;
            int labels = _nodeCapacity + 2 * _branchCapacity + 1;
            int fields = 5 * _branchCapacity + _nodeCapacity + 2;
            _code = new X64Code(labels, fields);
            _maximumBits = CeilingLog2(set.FilterCapacity) + ExtraBits;
            if (_maximumBits < 2 + ExtraBits) _maximumBits = 2 + ExtraBits;
            _bucketFill = new int[1 << _maximumBits];
            _tableBranches = new int[_branchCapacity];
            _tableMultiplier = new uint[_branchCapacity];
            _tableBits = new int[_branchCapacity];
            _tableMiss = new int[_branchCapacity];
        }

        // Labels: a node's code, a branch's code, the final ret, a branch's table.
        private static int NodeLabel(int node) => node;
        private int BranchLabel(int branch) => _nodeCapacity + branch;
        private int DoneLabel => _nodeCapacity + _branchCapacity;
        private int TableLabel(int branch) => _nodeCapacity + _branchCapacity + 1 + branch;

        public bool Compile(byte* code, int capacity, out int size)
        {
            _code.Begin(code, capacity);
            _tables = 0;
            _layoutFailed = false;
            EmitPrologue();
            EmitNode(PacketFilterSet.Root, DoneLabel, 0);       // edx = 0: no filter yet
            _code.Bind(DoneLabel);
            _code.Byte(0xC3);                                   // ret
            for (int i = 0; i < _tables && !_layoutFailed; i++) EmitTable(_tableBranches[i]);
            if (_layoutFailed) { size = 0; return false; }
            size = _code.Position;
            return _code.Finish();
        }

        private void EmitPrologue()
        {
            _code.Bytes(0x48, 0x63, 0xF6);                      // movsxd rsi, esi
            _code.Byte(0xB8); _code.Int32(-1);                  // mov eax, -1
            _code.Bytes(0x31, 0xD2);                            // xor edx, edx
            if (_set.TransportBranches == 0) return;
            _code.Bytes(0x49, 0xB8); _code.Int32(0); _code.Int32(1); // mov r8, 2^32   ; NoTransport
            _code.Bytes(0x48, 0x83, 0xFE, 0x0F);                // cmp rsi, 15
            int noByte14 = _code.ShortJumpIf(X64Code.Less);     // jl .done
            _code.Bytes(0x0F, 0xB6, 0x4F, 0x0E);                // movzx ecx, byte [rdi + 14]
            _code.Bytes(0x83, 0xE1, 0x0F);                      // and ecx, 15         ; IHL
            _code.Bytes(0x83, 0xF9, 0x05);                      // cmp ecx, 5
            int shortHeader = _code.ShortJumpIf(X64Code.Below); // jb .done
            _code.Bytes(0x44, 0x8D, 0x04, 0x8D); _code.Int32(14); // lea r8d, [rcx*4 + 14]
            _code.Land(noByte14);                               // .done:
            _code.Land(shortHeader);
        }

        /// <summary>A node's code; it ends by going to cont. knownRank: edx's value wherever this
        /// code is entered from (the node's parent branch, with no other way in), or Unknown.</summary>
        private void EmitNode(int node, int cont, long knownRank)
        {
            int winner = _set.WinnerAt(node);
            int branch = _set.FirstBranchOf(node);
            if (winner != None)
            {
                uint rank = _set.RankOf(winner);
                if (knownRank == Unknown)
                {
                    _code.Bytes(0x81, 0xFA); _code.Int32((int)rank); // cmp edx, rank
                    int worse = _code.ShortJumpIf(X64Code.AboveOrEqual); // jae .worse
                    _code.Byte(0xBA); _code.Int32((int)rank);   // mov edx, rank
                    _code.Byte(0xB8); _code.Int32(winner);      // mov eax, id
                    _code.Land(worse);                          // .worse:
                }
                else if (rank > knownRank)
                {
                    // The comparison is decided here: no compare, and no rank when nothing reads it.
                    if (branch != None || cont != DoneLabel) { _code.Byte(0xBA); _code.Int32((int)rank); } // mov edx, rank
                    _code.Byte(0xB8); _code.Int32(winner);      // mov eax, id
                    knownRank = rank;
                }
            }
            if (branch == None)
            {
                JumpOrReturn(cont);
                return;
            }
            while (branch != None)
            {
                int next = _set.NextBranchOf(branch);
                _code.Bind(BranchLabel(branch));
                EmitBranch(branch, next == None ? cont : BranchLabel(next), knownRank);
                branch = next;
                knownRank = Unknown; // a later branch is also entered after the earlier ones' subtrees
            }
        }

        /// <summary>A branch's code: the field, then the child for its value (miss: no child).</summary>
        private void EmitBranch(int branch, int miss, long knownRank)
        {
            FilterAtom field = _set.FieldOf(branch);
            int end = field.Offset + field.Width;
            if (field.Base == (byte)FilterBase.Frame)
            {
                _code.Bytes(0x48, 0x81, 0xFE); _code.Int32(end); // cmp rsi, offset + width
                _code.JumpIf(X64Code.Less, miss);               // jl miss
                if (field.Width == 1) _code.Bytes(0x0F, 0xB6, 0x8F);      // movzx ecx, byte [rdi + disp32]
                else if (field.Width == 2) _code.Bytes(0x0F, 0xB7, 0x8F); // movzx ecx, word [rdi + disp32]
                else _code.Bytes(0x8B, 0x8F);                             // mov ecx, [rdi + disp32]
                _code.Int32(field.Offset);
            }
            else
            {
                _code.Bytes(0x4D, 0x8D, 0x88); _code.Int32(end); // lea r9, [r8 + offset + width]
                _code.Bytes(0x49, 0x39, 0xF1);                  // cmp r9, rsi
                _code.JumpIf(X64Code.Greater, miss);            // jg miss
                if (field.Width == 1) _code.Bytes(0x42, 0x0F, 0xB6, 0x8C);      // movzx ecx, byte [rdi + r8 + disp32]
                else if (field.Width == 2) _code.Bytes(0x42, 0x0F, 0xB7, 0x8C); // movzx ecx, word [rdi + r8 + disp32]
                else _code.Bytes(0x42, 0x8B, 0x8C);                             // mov ecx, [rdi + r8 + disp32]
                _code.Byte(0x07);                               //   (SIB: base rdi, index r8, scale 1)
                _code.Int32(field.Offset);
            }
            if (field.Width == 2) _code.Bytes(0x66, 0xC1, 0xC1, 0x08); // rol cx, 8   ; big-endian
            else if (field.Width == 4) _code.Bytes(0x0F, 0xC9);       // bswap ecx
            if (field.Mask != FilterAtoms.WidthMask(field.Width))
            {
                _code.Bytes(0x81, 0xE1); _code.Int32((int)field.Mask); // and ecx, mask
            }

            int children = _set.ChildrenOf(branch);
            int first = _set.FirstChildOf(branch);
            if (children == 1)
            {
                CompareValue(_set.ValueOf(first));
                _code.JumpIf(X64Code.NotEqual, miss);           // jne miss
                EmitNode(first, miss, knownRank);
                return;
            }
            if (children <= CompareChainLimit)
            {
                for (int child = first; child != None; child = _set.NextChildOf(child))
                {
                    CompareValue(_set.ValueOf(child));
                    _code.JumpIf(X64Code.Equal, NodeLabel(child)); // je child
                }
                JumpOrReturn(miss);
            }
            else if (!EmitLookup(branch, miss)) return;
            for (int child = first; child != None; child = _set.NextChildOf(child))
            {
                _code.Bind(NodeLabel(child));
                EmitNode(child, miss, knownRank);
            }
        }

        /// <summary>jmp to label, or the ret itself when the label is the final ret.</summary>
        private void JumpOrReturn(int label)
        {
            if (label == DoneLabel) _code.Byte(0xC3);           // ret                 ; nothing follows
            else _code.Jump(label);                             // jmp label
        }

        private void CompareValue(uint value)
        {
            _code.Bytes(0x81, 0xF9); _code.Int32((int)value);  // cmp ecx, value
        }

        /// <summary>The hash lookup of ecx in the branch's table: to the child's code, or to miss.</summary>
        private bool EmitLookup(int branch, int miss)
        {
            if (!ChooseLayout(branch, out uint multiplier, out int bits)) { _layoutFailed = true; return false; }
            _tableMultiplier[branch] = multiplier;
            _tableBits[branch] = bits;
            _tableMiss[branch] = miss;
            _tableBranches[_tables++] = branch;

            _code.Bytes(0x44, 0x69, 0xD1); _code.Int32((int)multiplier); // imul r10d, ecx, multiplier
            _code.Bytes(0x41, 0xC1, 0xEA, 32 - bits);           // shr r10d, 32 - bits   ; the bucket
            _code.Bytes(0x41, 0xC1, 0xE2, BucketShift);         // shl r10d, 5           ; its offset
            _code.Bytes(0x4C, 0x8D, 0x1D); _code.Relative32(TableLabel(branch)); // lea r11, [rip + table]
            int* hit = stackalloc int[BucketEntries];
            for (int entry = 0; entry < BucketEntries; entry++)
            {
                _code.Bytes(0x43, 0x3B, 0x4C, 0x13); _code.Byte(entry * EntryBytes); // cmp ecx, [r11 + r10 + 8 * entry]
                if (entry < BucketEntries - 1) hit[entry] = _code.ShortJumpIf(X64Code.Equal); // je .hitN
                else _code.JumpIf(X64Code.NotEqual, miss);      // jne miss
            }
            // .hitN: the child's code is at the table's start + the entry's offset.
            for (int entry = BucketEntries - 1; entry >= 0; entry--)
            {
                if (entry < BucketEntries - 1) _code.Land(hit[entry]);
                _code.Bytes(0x4F, 0x63, 0x54, 0x13); _code.Byte(entry * EntryBytes + 4); // movsxd r10, dword [r11 + r10 + 8 * entry + 4]
                _code.Bytes(0x4D, 0x01, 0xDA);                  // add r10, r11
                _code.Bytes(0x41, 0xFF, 0xE2);                  // jmp r10
            }
            return true;
        }

        /// <summary>The branch's table: every entry first (0, miss), then each child in its bucket.</summary>
        private void EmitTable(int branch)
        {
            _code.Align(1 << BucketShift);
            _code.Bind(TableLabel(branch));
            int table = _code.Position;
            int bits = _tableBits[branch];
            uint multiplier = _tableMultiplier[branch];
            int missAt = _code.PositionOf(_tableMiss[branch]) - table;
            for (int entry = 0; entry < BucketEntries << bits; entry++)
            {
                _code.Int32(0);
                _code.Int32(missAt);
            }
            for (int bucket = 0; bucket < 1 << bits; bucket++) _bucketFill[bucket] = 0;
            for (int child = _set.FirstChildOf(branch); child != None; child = _set.NextChildOf(child))
            {
                uint value = _set.ValueOf(child);
                int bucket = Bucket(value, multiplier, bits);
                int at = table + (bucket << BucketShift) + _bucketFill[bucket]++ * EntryBytes;
                _code.Patch32(at, (int)value);
                _code.Patch32(at + 4, _code.PositionOf(NodeLabel(child)) - table);
            }
        }

        /// <summary>A multiplier and size for the branch's table with at most BucketEntries values
        /// a bucket: the smallest size that holds the children, up to ExtraBits doublings, each
        /// with MultiplierTries multipliers.</summary>
        private bool ChooseLayout(int branch, out uint multiplier, out int bits)
        {
            int smallest = CeilingLog2(_set.ChildrenOf(branch));
            if (smallest < 1) smallest = 1;
            for (bits = smallest; bits <= smallest + ExtraBits && bits <= _maximumBits; bits++)
            {
                multiplier = 0x9E3779B1u; // 2^32 / golden ratio, odd
                for (int attempt = 0; attempt < MultiplierTries; attempt++)
                {
                    if (Fits(branch, multiplier, bits)) return true;
                    multiplier = (multiplier * 0x5851F42Du + 0x14057B7Fu) | 1u;
                }
            }
            multiplier = 0;
            bits = 0;
            return false;
        }

        private bool Fits(int branch, uint multiplier, int bits)
        {
            for (int bucket = 0; bucket < 1 << bits; bucket++) _bucketFill[bucket] = 0;
            for (int child = _set.FirstChildOf(branch); child != None; child = _set.NextChildOf(child))
                if (++_bucketFill[Bucket(_set.ValueOf(child), multiplier, bits)] > BucketEntries) return false;
            return true;
        }

        private static int Bucket(uint value, uint multiplier, int bits) => (int)((value * multiplier) >> (32 - bits));

        private static int CeilingLog2(int value)
        {
            int bits = 0;
            while ((1 << bits) < value) bits++;
            return bits;
        }
    }
}
