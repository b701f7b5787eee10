// ILC's per-method blocks in .dotnet_eh_table (each .eh_frame FDE's LSDA points at one) and the
// EH clause lists they refer to, as NativeAOT 10 writes them on ELF targets:
//   block:  byte flags — kind (flags & 3: 0 main body, 1 handler funclet, 2 filter funclet),
//           0x04 has EH info, 0x08 reverse P/Invoke, 0x10 has associated data;
//           funclet:   int32 relative pointer to its main body's block, uint32 funclet offset
//                      from the main body's start;
//           main body: [int32 relative pointer to associated data] [int32 relative pointer to
//                      the EH info], then the GC info.
//   EH info: VarInt count, then per clause VarInt try start, VarInt (try length << 2 | kind),
//           VarInt handler offset, and for a typed catch an int32 relative pointer to the
//           MethodTable, for a filter a VarInt filter offset. Kinds: 0 typed catch, 1 fault
//           (C#'s finally is a fault clause), 2 filter. Offsets are from the main body's start;
//           clauses are innermost first; empty "marker" clauses separate distinct try blocks
//           that cover the same code.
// Blocks are shared between methods whose blocks are byte-identical, so a method's start comes
// from its FDE, never from the block.
// Pure functions over byte pointers, host-tested (Aegis.Tests/Host/EhTableTests.cs).
namespace Internal.Runtime.ExceptionHandling
{
    public enum EhClauseKind : byte { TypedCatch = 0, Fault = 1, Filter = 2 }

    public unsafe struct EhClause
    {
        public uint TryStart, TryEnd;      // [TryStart, TryEnd) from the method's start
        public EhClauseKind Kind;
        public uint HandlerOffset;
        public uint FilterOffset;          // filters only
        public void* TargetType;           // typed catches only: the MethodTable
        public bool Contains(uint offset) => offset >= TryStart && offset < TryEnd;
        public bool SameTryAs(in EhClause other) => TryStart == other.TryStart && TryEnd == other.TryEnd;
    }

    /// <summary>What one FDE's block says about the code it covers.</summary>
    public unsafe struct MethodInfo
    {
        public const byte KindMainBody = 0, KindHandlerFunclet = 1, KindFilterFunclet = 2;
        public const byte FlagKindMask = 0x03, FlagHasEhInfo = 0x04, FlagReversePInvoke = 0x08, FlagHasAssociatedData = 0x10;

        public ulong MethodStart;   // the main body's first instruction
        public byte Kind;           // of the code the FDE covers
        public byte* MainBlock;
        public byte* EhInfo;        // null: no clauses
    }

    public unsafe struct EhClauseReader
    {
        private byte* _next;
        private uint _left;

        public EhClauseReader(byte* ehInfo)
        {
            _next = ehInfo;
            _left = ehInfo == null ? 0 : EhTable.ReadVarInt(ref _next);
        }

        public uint Remaining => _left;

        public bool Next(out EhClause clause)
        {
            clause = default;
            if (_left == 0) return false;
            _left--;
            byte* p = _next;
            clause.TryStart = EhTable.ReadVarInt(ref p);
            uint lengthAndKind = EhTable.ReadVarInt(ref p);
            clause.TryEnd = clause.TryStart + (lengthAndKind >> 2);
            clause.Kind = (EhClauseKind)(lengthAndKind & 3);
            clause.HandlerOffset = EhTable.ReadVarInt(ref p);
            if (clause.Kind == EhClauseKind.TypedCatch)
            {
                clause.TargetType = p + *(int*)p;
                p += 4;
            }
            else if (clause.Kind == EhClauseKind.Filter)
                clause.FilterOffset = EhTable.ReadVarInt(ref p);
            _next = p;
            return true;
        }
    }

    public static unsafe class EhTable
    {
        /// <summary>NativeAOT's VarInt: the number of trailing one bits of the first byte says how
        /// many more bytes follow (0: 7-bit value in one byte ... 4: a plain uint32 follows).</summary>
        public static uint ReadVarInt(ref byte* p)
        {
            uint first = p[0];
            if ((first & 1) == 0) { p += 1; return first >> 1; }
            if ((first & 2) == 0) { uint v = (first >> 2) | ((uint)p[1] << 6); p += 2; return v; }
            if ((first & 4) == 0) { uint v = (first >> 3) | ((uint)p[1] << 5) | ((uint)p[2] << 13); p += 3; return v; }
            if ((first & 8) == 0) { uint v = (first >> 4) | ((uint)p[1] << 4) | ((uint)p[2] << 12) | ((uint)p[3] << 20); p += 4; return v; }
            uint value = *(uint*)(p + 1);
            p += 5;
            return value;
        }

        /// <summary>Reads the block an FDE points at. codeStart is the FDE's start address (of
        /// the main body or of the funclet). Returns null or what is wrong.</summary>
        public static string ReadMethod(byte* block, ulong codeStart, out MethodInfo info)
        {
            info = default;
            byte flags = block[0];
            info.Kind = (byte)(flags & MethodInfo.FlagKindMask);
            if (info.Kind == 3) return "unknown method block kind 3";
            byte* main = block;
            info.MethodStart = codeStart;
            if (info.Kind != MethodInfo.KindMainBody)
            {
                byte* p = block + 1;
                main = p + *(int*)p;
                uint funcletOffset = *(uint*)(p + 4);
                info.MethodStart = codeStart - funcletOffset;
                if ((main[0] & MethodInfo.FlagKindMask) != MethodInfo.KindMainBody) return "a funclet's main block is itself a funclet";
            }
            info.MainBlock = main;
            byte mainFlags = main[0];
            byte* q = main + 1;
            if ((mainFlags & MethodInfo.FlagHasAssociatedData) != 0) q += 4;
            if ((mainFlags & MethodInfo.FlagHasEhInfo) != 0)
                info.EhInfo = q + *(int*)q;
            return null;
        }
    }
}
