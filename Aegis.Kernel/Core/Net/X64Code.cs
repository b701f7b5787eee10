// X64Code: a tiny x86-64 code buffer for the packet-filter compiler (FilterCompiler.cs): bytes,
// labels, and the 32-bit PC-relative fields that refer to them, resolved when the code is done.
// It knows the encodings of the jumps only (jmp rel32 E9 cd, jcc rel32 0F 80+cc cd, jcc rel8
// 70+cc cb); the compiler writes every other instruction's bytes itself, each with its assembly
// in a comment.
//
// Invariants:
//   - bytes past the capacity are counted, never written: Position is the size the code needs,
//     and Finish fails when it exceeds the capacity;
//   - a label is bound once per compilation, and is listed in _bound when it is: the next
//     compilation unbinds the listed ones only (a recompile costs what the code's labels cost, not
//     the set's capacity: 49,154 labels for 1,024 filters, about 345,000 instructions to clear
//     at each filter install or removal before this: docs/benchmarks.md, "Packet filters");
//   - a PC-relative field is the last 4 bytes of its
//     instruction (true of every jump and of lea reg, [rip + disp32]), so it holds
//     target - (field + 4);
//   - when a label is bound right after a jmp rel32 to it (nothing bound in between), the jmp
//     is dropped: no other label or field lies inside it, so nothing else moves.
//
// Allocates only in its constructor.
namespace Aegis.Kernel.Core.Net
{
    internal sealed unsafe class X64Code
    {
        /// <summary>Condition codes (the low nibble of jcc's opcode).</summary>
        public const int Below = 0x2, AboveOrEqual = 0x3, Equal = 0x4, NotEqual = 0x5, Less = 0xC, Greater = 0xF;

        private const int Unbound = -1;
        private readonly int[] _labelAt;
        private readonly int[] _bound;   // the labels bound in this (or the last) compilation
        private int _boundCount;
        private readonly int[] _fixupAt;
        private readonly int[] _fixupLabel;
        private int _fixups;
        private bool _tooManyFixups;
        private byte* _code;
        private int _capacity;
        private int _lastJumpEnd = -1;
        private int _lastJumpLabel = -1;

        /// <summary>Where the next byte goes (the size of the code so far).</summary>
        public int Position { get; private set; }

        public X64Code(int labels, int fixups)
        {
            _labelAt = new int[labels];
            for (int i = 0; i < labels; i++) _labelAt[i] = Unbound;
            _bound = new int[labels];
            _fixupAt = new int[fixups];
            _fixupLabel = new int[fixups];
        }

        /// <summary>Starts a compilation into code (capacity bytes): no label bound, no byte written.</summary>
        public void Begin(byte* code, int capacity)
        {
            _code = code;
            _capacity = capacity;
            Position = 0;
            _fixups = 0;
            _tooManyFixups = false;
            _lastJumpEnd = -1;
            for (int i = 0; i < _boundCount; i++) _labelAt[_bound[i]] = Unbound;
            _boundCount = 0;
        }

        public void Byte(int value)
        {
            if (Position < _capacity) _code[Position] = (byte)value;
            Position++;
        }

        public void Bytes(int first, int second) { Byte(first); Byte(second); }
        public void Bytes(int first, int second, int third) { Byte(first); Byte(second); Byte(third); }
        public void Bytes(int first, int second, int third, int fourth) { Byte(first); Byte(second); Byte(third); Byte(fourth); }

        /// <summary>A little-endian 32-bit immediate or displacement.</summary>
        public void Int32(int value)
        {
            Patch32(Position, value);
            Position += 4;
        }

        /// <summary>Overwrites the 4 bytes at 'at' (inside the capacity only).</summary>
        public void Patch32(int at, int value)
        {
            if (at < 0 || at > _capacity - 4) return;
            _code[at] = (byte)value;
            _code[at + 1] = (byte)(value >> 8);
            _code[at + 2] = (byte)(value >> 16);
            _code[at + 3] = (byte)(value >> 24);
        }

        /// <summary>A 4-byte PC-relative field for label, the last bytes of its instruction.</summary>
        public void Relative32(int label)
        {
            if (_fixups == _fixupAt.Length) _tooManyFixups = true;
            else
            {
                _fixupAt[_fixups] = Position;
                _fixupLabel[_fixups] = label;
                _fixups++;
            }
            Int32(0);
        }

        /// <summary>jmp rel32 (E9 cd).</summary>
        public void Jump(int label)
        {
            Byte(0xE9);
            Relative32(label);
            _lastJumpEnd = Position;
            _lastJumpLabel = label;
        }

        /// <summary>jcc rel32 (0F 80+cc cd).</summary>
        public void JumpIf(int condition, int label)
        {
            Bytes(0x0F, 0x80 + condition);
            Relative32(label);
        }

        /// <summary>jcc rel8 (70+cc cb) to a place a few bytes ahead; returns where its rel8 is,
        /// for Land.</summary>
        public int ShortJumpIf(int condition)
        {
            Bytes(0x70 + condition, 0);
            return Position - 1;
        }

        /// <summary>Points the short jump whose rel8 is at 'at' here.</summary>
        public void Land(int at)
        {
            if (at < _capacity) _code[at] = (byte)(Position - (at + 1));
        }

        /// <summary>Binds label here, dropping a jmp to it that would jump to the next instruction.</summary>
        public void Bind(int label)
        {
            if (_lastJumpEnd == Position && _lastJumpLabel == label && _fixups > 0 && _fixupAt[_fixups - 1] == Position - 4)
            {
                _fixups--;
                Position -= 5;
            }
            _lastJumpEnd = -1;
            if (_labelAt[label] == Unbound) _bound[_boundCount++] = label;
            _labelAt[label] = Position;
        }

        /// <summary>Where label was bound (-1: not yet).</summary>
        public int PositionOf(int label) => _labelAt[label];

        /// <summary>Pads with int3 (CC) up to a multiple of boundary (a power of two).</summary>
        public void Align(int boundary)
        {
            while ((Position & (boundary - 1)) != 0) Byte(0xCC);
        }

        /// <summary>Fills in every PC-relative field. False when the code did not fit, a field's
        /// label was never bound, or there were more fields than the buffer records.</summary>
        public bool Finish()
        {
            if (Position > _capacity || _tooManyFixups) return false;
            for (int i = 0; i < _fixups; i++)
            {
                int target = _labelAt[_fixupLabel[i]];
                if (target == Unbound) return false;
                Patch32(_fixupAt[i], target - (_fixupAt[i] + 4));
            }
            return true;
        }
    }
}
