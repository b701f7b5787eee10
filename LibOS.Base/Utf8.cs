// UTF-16 (C# strings) to UTF-8 (what the console and the kernel's name arguments take), into
// caller-provided buffers: nothing here allocates, so the console works inside upcalls, in the
// failure handler and before the heap can grow.
namespace Aegis.LibOS
{
    internal static unsafe class Utf8
    {
        /// <summary>The most bytes one character (or surrogate pair) takes.</summary>
        public const int MaximumBytesPerCharacter = 4;

        /// <summary>Encodes text from 'index' on into buffer until the next character might not
        /// fit; advances index past what was encoded and returns the byte count. A lone surrogate
        /// becomes U+FFFD.</summary>
        public static int Encode(string text, ref int index, byte* buffer, int capacity)
        {
            int used = 0;
            while (index < text.Length && capacity - used >= MaximumBytesPerCharacter)
            {
                uint c = text[index++];
                if (c >= 0xD800 && c <= 0xDBFF && index < text.Length && text[index] >= 0xDC00 && text[index] <= 0xDFFF)
                    c = 0x10000 + ((c - 0xD800) << 10) + ((uint)text[index++] - 0xDC00);
                else if (c >= 0xD800 && c <= 0xDFFF)
                    c = 0xFFFD;
                used += EncodeScalar(c, buffer + used);
            }
            return used;
        }

        private static int EncodeScalar(uint c, byte* output)
        {
            if (c < 0x80)
            {
                output[0] = (byte)c;
                return 1;
            }
            if (c < 0x800)
            {
                output[0] = (byte)(0xC0 | (c >> 6));
                output[1] = (byte)(0x80 | (c & 0x3F));
                return 2;
            }
            if (c < 0x10000)
            {
                output[0] = (byte)(0xE0 | (c >> 12));
                output[1] = (byte)(0x80 | ((c >> 6) & 0x3F));
                output[2] = (byte)(0x80 | (c & 0x3F));
                return 3;
            }
            output[0] = (byte)(0xF0 | (c >> 18));
            output[1] = (byte)(0x80 | ((c >> 12) & 0x3F));
            output[2] = (byte)(0x80 | ((c >> 6) & 0x3F));
            output[3] = (byte)(0x80 | (c & 0x3F));
            return 4;
        }
    }
}
