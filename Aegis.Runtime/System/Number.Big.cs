// An unsigned big integer in a fixed buffer (no heap), for exact floating-point formatting and
// parsing. Invariants: words [0, _length) hold the value little-endian; the top word is non-zero
// (a zero value has _length == 0); words at and past _length are not read. Capacity is
// MaxWords * 32 bits = 4096 bits, enough for every quantity the formatter (at most ~1100 bits)
// and the parser (at most ~3700 bits with 780 significant digits) build; exceeding it throws
// OverflowException rather than corrupting memory.
// This file is compiled unchanged into the host tests (Aegis.Tests) and checked against .NET.
namespace Internal.Numerics
{
    internal unsafe struct BigNum
    {
        public const int MaxWords = 128;

        private int _length;
        private fixed uint _words[MaxWords];

        private static readonly uint[] s_pow10 = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000 };

        public bool IsZero => _length == 0;

        public void SetUInt64(ulong value)
        {
            _words[0] = (uint)value;
            _words[1] = (uint)(value >> 32);
            _length = (value >> 32) != 0 ? 2 : value != 0 ? 1 : 0;
        }

        public void CopyFrom(ref BigNum other)
        {
            _length = other._length;
            for (int i = 0; i < other._length; i++) _words[i] = other._words[i];
        }

        /// <summary>this = this * factor + addend.</summary>
        public void MultiplyAdd(uint factor, uint addend)
        {
            ulong carry = addend;
            for (int i = 0; i < _length; i++)
            {
                ulong product = (ulong)_words[i] * factor + carry;
                _words[i] = (uint)product;
                carry = product >> 32;
            }
            if (carry != 0)
            {
                if (_length == MaxWords) throw new System.OverflowException("BigNum capacity exceeded.");
                _words[_length++] = (uint)carry;
            }
        }

        public void Multiply10() => MultiplyAdd(10, 0);

        public void MultiplyPow10(int exponent)
        {
            while (exponent >= 9) { MultiplyAdd(1000000000, 0); exponent -= 9; }
            if (exponent > 0) MultiplyAdd(s_pow10[exponent], 0);
        }

        /// <summary>this = 2^exponent.</summary>
        public void SetPow2(int exponent)
        {
            int word = exponent >> 5;
            if (word >= MaxWords) throw new System.OverflowException("BigNum capacity exceeded.");
            for (int i = 0; i < word; i++) _words[i] = 0;
            _words[word] = 1u << (exponent & 31);
            _length = word + 1;
        }

        public void ShiftLeft(int bits)
        {
            if (_length == 0 || bits == 0) return;
            int wordShift = bits >> 5, bitShift = bits & 31;
            int newLength = _length + wordShift + (bitShift != 0 ? 1 : 0);
            if (newLength > MaxWords)
            {
                // Only an error when the top (possibly empty) word is really needed.
                if (newLength - 1 > MaxWords || (_words[_length - 1] >> (32 - bitShift)) != 0)
                    throw new System.OverflowException("BigNum capacity exceeded.");
                newLength = MaxWords;
            }
            if (bitShift == 0)
            {
                for (int i = _length - 1; i >= 0; i--) _words[i + wordShift] = _words[i];
            }
            else
            {
                int top = _length + wordShift;
                if (top < MaxWords) _words[top] = _words[_length - 1] >> (32 - bitShift);
                for (int i = _length - 1; i > 0; i--)
                    _words[i + wordShift] = (_words[i] << bitShift) | (_words[i - 1] >> (32 - bitShift));
                _words[wordShift] = _words[0] << bitShift;
            }
            for (int i = 0; i < wordShift; i++) _words[i] = 0;
            _length = newLength;
            while (_length > 0 && _words[_length - 1] == 0) _length--;
        }

        public static int Compare(ref BigNum a, ref BigNum b)
        {
            if (a._length != b._length) return a._length > b._length ? 1 : -1;
            for (int i = a._length - 1; i >= 0; i--)
                if (a._words[i] != b._words[i]) return a._words[i] > b._words[i] ? 1 : -1;
            return 0;
        }

        /// <summary>Compares a + b with c.</summary>
        public static int CompareSum(ref BigNum a, ref BigNum b, ref BigNum c)
        {
            int length = a._length > b._length ? a._length : b._length;
            if (length + 1 < c._length) return -1;
            if (length > c._length) return 1;
            // Compute the sum's words from the bottom into a scratch buffer, then compare from the top.
            uint* sum = stackalloc uint[MaxWords + 1];
            ulong carry = 0;
            for (int i = 0; i < length; i++)
            {
                ulong s = (ulong)(i < a._length ? a._words[i] : 0) + (i < b._length ? b._words[i] : 0) + carry;
                sum[i] = (uint)s;
                carry = s >> 32;
            }
            int sumLength = length;
            if (carry != 0) sum[sumLength++] = (uint)carry;
            while (sumLength > 0 && sum[sumLength - 1] == 0) sumLength--;
            if (sumLength != c._length) return sumLength > c._length ? 1 : -1;
            for (int i = sumLength - 1; i >= 0; i--)
                if (sum[i] != c._words[i]) return sum[i] > c._words[i] ? 1 : -1;
            return 0;
        }

        /// <summary>this -= other; requires this >= other.</summary>
        public void Subtract(ref BigNum other)
        {
            long borrow = 0;
            for (int i = 0; i < _length; i++)
            {
                long difference = (long)_words[i] - (i < other._length ? other._words[i] : 0) - borrow;
                _words[i] = (uint)difference;
                borrow = difference < 0 ? 1 : 0;
            }
            while (_length > 0 && _words[_length - 1] == 0) _length--;
        }

        /// <summary>For this &lt; 10 * divisor: returns floor(this / divisor) and leaves the remainder.</summary>
        public uint DivideDigit(ref BigNum divisor)
        {
            if (_length < divisor._length) return 0;
            // An estimate from the top words that is never too large; then correct upwards.
            int n = divisor._length;
            ulong top = _length > n ? ((ulong)_words[n] << 32) | _words[n - 1] : _words[n - 1];
            uint quotient = (uint)(top / ((ulong)divisor._words[n - 1] + 1));
            if (quotient > 0)
            {
                ulong carry = 0;
                long borrow = 0;
                for (int i = 0; i < _length; i++)
                {
                    ulong product = (i < n ? (ulong)divisor._words[i] * quotient : 0) + carry;
                    carry = product >> 32;
                    long difference = (long)_words[i] - (uint)product - borrow;
                    _words[i] = (uint)difference;
                    borrow = difference < 0 ? 1 : 0;
                }
                while (_length > 0 && _words[_length - 1] == 0) _length--;
            }
            while (Compare(ref this, ref divisor) >= 0)
            {
                Subtract(ref divisor);
                quotient++;
            }
            return quotient;
        }

        /// <summary>this = the value of little-endian words.</summary>
        public void SetWords(uint[] words)
        {
            if (words.Length > MaxWords) throw new System.OverflowException("BigNum capacity exceeded.");
            for (int i = 0; i < words.Length; i++) _words[i] = words[i];
            _length = words.Length;
            while (_length > 0 && _words[_length - 1] == 0) _length--;
        }

        /// <summary>this += other.</summary>
        public void Add(ref BigNum other)
        {
            int length = _length > other._length ? _length : other._length;
            ulong carry = 0;
            for (int i = 0; i < length; i++)
            {
                ulong sum = (ulong)(i < _length ? _words[i] : 0) + (i < other._length ? other._words[i] : 0) + carry;
                _words[i] = (uint)sum;
                carry = sum >> 32;
            }
            _length = length;
            if (carry != 0)
            {
                if (_length == MaxWords) throw new System.OverflowException("BigNum capacity exceeded.");
                _words[_length++] = (uint)carry;
            }
        }

        /// <summary>this *= factor.</summary>
        public void MultiplyUInt64(ulong factor)
        {
            uint high = (uint)(factor >> 32);
            if (high == 0) { MultiplyAdd((uint)factor, 0); return; }
            BigNum low = default;
            low.CopyFrom(ref this);
            low.MultiplyAdd((uint)factor, 0);
            MultiplyAdd(high, 0);
            ShiftLeft(32);
            Add(ref low);
        }

        /// <summary>The 64 bits starting at bit 'offset' (bit 0 is the least significant;
        /// bits past the top read as 0, negative offsets as 0 below bit 0).</summary>
        public ulong GetBits64(int offset)
        {
            ulong result = 0;
            for (int b = 0; b < 64; b += 32)
            {
                int start = offset + b;
                // 32 bits starting at 'start'.
                uint part = 0;
                int word = start >> 5, shift = start & 31;
                if (start < 0)
                {
                    if (start > -32) part = WordAt(0) << -start;
                }
                else
                {
                    part = WordAt(word) >> shift;
                    if (shift != 0) part |= WordAt(word + 1) << (32 - shift);
                }
                result |= (ulong)part << b;
            }
            return result;
        }

        private uint WordAt(int index) => index >= 0 && index < _length ? _words[index] : 0;

        public int BitLength
        {
            get
            {
                if (_length == 0) return 0;
                uint top = _words[_length - 1];
                int bits = 0;
                while (top != 0) { bits++; top >>= 1; }
                return (_length - 1) * 32 + bits;
            }
        }
    }
}
