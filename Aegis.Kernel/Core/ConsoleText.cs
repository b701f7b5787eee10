// What may reach the serial console. The console is UTF-8; the kernel passes text through and
// keeps out what could move the cursor, erase or forge lines, or reorder them visually.
//   Utf8ConsoleFilter: an environment's ConsoleWrite bytes, in place, byte for byte (the length
//     never changes). Passes printable ASCII, '\n', '\t' and well-formed UTF-8 sequences of
//     allowed characters; every other byte becomes '?': C0 controls (ESC, CR...), DEL, C1
//     controls (U+0080-U+009F, among them NEL and CSI), line/paragraph separators (U+2028/9),
//     bidirectional controls (U+061C, U+200E/F, U+202A-E, U+2066-9), ill-formed sequences
//     (overlong forms, surrogates, beyond U+10FFFF, stray continuation bytes).
//     A character split across two calls (a short write cuts anywhere) is followed through the
//     state kept between calls: its first bytes went out with the first call; if what follows
//     does not complete it into an allowed character, the following bytes become '?' (the
//     terminal sees an ill-formed sequence, never a control).
//   EncodeUtf8: the kernel's own text (UTF-16) to UTF-8, one character at a time, with a pending
//     high surrogate carried to the next call; lone surrogates become U+FFFD.
// Nothing here allocates (system-call and interrupt paths use it).
using System;

namespace Aegis.Kernel.Core
{
    public struct Utf8ConsoleFilter
    {
        private int _remaining;   // continuation bytes still expected from an earlier call
        private uint _codePoint;  // the character's bits so far
        private byte _low, _high; // the range of the next continuation byte (0: 0x80..0xBF)

        public static bool IsAllowedCharacter(uint c)
        {
            if (c < 0x80) return (c >= 0x20 && c < 0x7F) || c == '\n' || c == '\t';
            if (c <= 0x9F) return false;                                   // C1 controls
            if (c == 0x061C || c == 0x200E || c == 0x200F) return false;   // bidirectional marks
            if (c >= 0x2028 && c <= 0x202E) return false;                  // separators, embeddings, overrides
            if (c >= 0x2066 && c <= 0x2069) return false;                  // isolates
            return c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF);
        }

        /// <summary>The continuation count and the range of the first continuation byte for a
        /// lead byte; false when the byte cannot start a sequence.</summary>
        private static bool Lead(byte b, out int continuation, out uint bits, out byte low, out byte high)
        {
            low = 0x80; high = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) { continuation = 1; bits = (uint)b & 0x1F; return true; }
            if (b >= 0xE0 && b <= 0xEF)
            {
                continuation = 2; bits = (uint)b & 0x0F;
                if (b == 0xE0) low = 0xA0;       // no overlong forms
                if (b == 0xED) high = 0x9F;      // no surrogates
                return true;
            }
            if (b >= 0xF0 && b <= 0xF4)
            {
                continuation = 3; bits = (uint)b & 0x07;
                if (b == 0xF0) low = 0x90;       // no overlong forms
                if (b == 0xF4) high = 0x8F;      // nothing past U+10FFFF
                return true;
            }
            continuation = 0; bits = 0;
            return false;
        }

        public void Filter(Span<byte> bytes)
        {
            int i = 0;
            // First finish a character an earlier call began.
            while (_remaining > 0 && i < bytes.Length)
            {
                byte b = bytes[i];
                byte low = _low == 0 ? (byte)0x80 : _low, high = _high == 0 ? (byte)0xBF : _high;
                if (b < low || b > high)
                {
                    _remaining = 0; // abandoned: b starts afresh below
                    break;
                }
                _codePoint = (_codePoint << 6) | ((uint)b & 0x3F);
                _low = 0; _high = 0;
                _remaining--;
                if (_remaining == 0 && !IsAllowedCharacter(_codePoint)) bytes[i] = (byte)'?';
                i++;
            }
            while (i < bytes.Length)
            {
                byte b = bytes[i];
                if (b < 0x80)
                {
                    if (!IsAllowedCharacter(b)) bytes[i] = (byte)'?';
                    i++;
                    continue;
                }
                if (!Lead(b, out int continuation, out uint bits, out byte low, out byte high))
                {
                    bytes[i] = (byte)'?';
                    i++;
                    continue;
                }
                // Read as much of the sequence as this call has.
                int j = 1;
                bool wellFormed = true;
                while (j <= continuation && i + j < bytes.Length)
                {
                    byte next = bytes[i + j];
                    if (next < low || next > high) { wellFormed = false; break; }
                    bits = (bits << 6) | ((uint)next & 0x3F);
                    low = 0x80; high = 0xBF;
                    j++;
                }
                if (!wellFormed)
                {
                    for (int k = 0; k < j; k++) bytes[i + k] = (byte)'?';
                    i += j;
                    continue;
                }
                if (j > continuation)
                {
                    if (!IsAllowedCharacter(bits))
                        for (int k = 0; k < j; k++) bytes[i + k] = (byte)'?';
                    i += j;
                    continue;
                }
                // The call ends inside the character: what came so far is well formed; the rest
                // is checked at the start of the next call.
                _remaining = continuation - (j - 1);
                _codePoint = bits;
                _low = low == 0x80 ? (byte)0 : low;
                _high = high == 0xBF ? (byte)0 : high;
                i += j;
            }
        }

        /// <summary>Forgets a character left unfinished (a new environment in the slot).</summary>
        public void Reset() { _remaining = 0; _codePoint = 0; _low = 0; _high = 0; }
    }

    public static class Utf8Text
    {
        /// <summary>Encodes one UTF-16 code unit into output (room for 4 bytes) and returns the byte
        /// count (0 while a high surrogate waits for its low half in 'pendingHigh').</summary>
        public static int Encode(char c, ref char pendingHigh, Span<byte> output)
        {
            uint scalar;
            int count = 0;
            if (pendingHigh != '\0')
            {
                if (c >= 0xDC00 && c <= 0xDFFF)
                {
                    scalar = 0x10000 + (((uint)pendingHigh - 0xD800) << 10) + ((uint)c - 0xDC00);
                    pendingHigh = '\0';
                    return EncodeScalar(scalar, output);
                }
                pendingHigh = '\0';
                count = EncodeScalar(0xFFFD, output); // the high half alone
                output = output.Slice(count);
            }
            if (c >= 0xD800 && c <= 0xDBFF) { pendingHigh = c; return count; }
            scalar = c >= 0xDC00 && c <= 0xDFFF ? 0xFFFDu : c;
            return count + EncodeScalar(scalar, output);
        }

        public static int EncodeScalar(uint c, Span<byte> output)
        {
            if (c < 0x80) { output[0] = (byte)c; return 1; }
            if (c < 0x800) { output[0] = (byte)(0xC0 | (c >> 6)); output[1] = (byte)(0x80 | (c & 0x3F)); return 2; }
            if (c < 0x10000)
            {
                output[0] = (byte)(0xE0 | (c >> 12)); output[1] = (byte)(0x80 | ((c >> 6) & 0x3F)); output[2] = (byte)(0x80 | (c & 0x3F));
                return 3;
            }
            output[0] = (byte)(0xF0 | (c >> 18)); output[1] = (byte)(0x80 | ((c >> 12) & 0x3F));
            output[2] = (byte)(0x80 | ((c >> 6) & 0x3F)); output[3] = (byte)(0x80 | (c & 0x3F));
            return 4;
        }
    }
}
