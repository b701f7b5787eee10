// The character devices under /dev other than the terminal: null, zero, full, random and urandom.
// Pure logic; compiles under the real .NET. (The terminal device is TerminalDevice, FileCalls.Platform.cs.)
//
// Semantics as Linux's drivers/char/mem.c and random.c: null reads end of file and swallows
// writes; zero reads zeros and swallows writes; full reads zeros and fails every write with ENOSPC;
// random and urandom read bytes from the entropy source (the CPU's RDRAND where the platform has it,
// else a xoshiro256** generator seeded from it) and accept writes (mixed into the generator's state).
// All of them seek (lseek returns 0) and are always ready for poll.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    /// <summary>Where /dev/random bytes come from: fills buffer, returns false when it cannot.</summary>
    public unsafe interface IEntropySource
    {
        bool Fill(byte* buffer, int length);
    }

    public sealed unsafe class NullDevice : ICharacterDevice
    {
        public long Read(byte* buffer, int length, bool nonBlocking) => 0;
        public long Write(byte* buffer, int length, bool nonBlocking) => length;
        public long Ioctl(ulong request, ulong argument) => -Errno.ENOTTY;
        public bool PollReadable => true;
        public bool PollWritable => true;
        public bool Seekable => true;
        public bool Splices => true;
        public long BytesReadable => -Errno.ENOTTY;
    }

    /// <summary>/dev/zero (Full = false) and /dev/full (Full = true).</summary>
    public sealed unsafe class ZeroDevice : ICharacterDevice
    {
        private readonly bool _full;
        public ZeroDevice(bool full) { _full = full; }

        public long Read(byte* buffer, int length, bool nonBlocking)
        {
            for (int i = 0; i < length; i++) buffer[i] = 0;
            return length;
        }

        public long Write(byte* buffer, int length, bool nonBlocking) => _full ? -Errno.ENOSPC : length;
        public long Ioctl(ulong request, ulong argument) => -Errno.ENOTTY;
        public bool PollReadable => true;
        public bool PollWritable => true;
        public bool Seekable => true;
        public bool Splices => true;
        public long BytesReadable => -Errno.ENOTTY;
    }

    /// <summary>/dev/random and /dev/urandom (both non-blocking, as Linux 5.6+).</summary>
    public sealed unsafe class RandomDevice : ICharacterDevice
    {
        private readonly IEntropySource _source;
        private ulong _s0, _s1, _s2, _s3;

        /// <summary>source may be null (or fail): then the generator seeded with seed serves.</summary>
        public RandomDevice(IEntropySource source, ulong seed)
        {
            _source = source;
            Mix(seed);
        }

        private void Mix(ulong value)
        {
            // splitmix64 spreads the value over the four state words (never all zero).
            ulong z = value ^ _s0 ^ 0x9E3779B97F4A7C15UL;
            _s0 = SplitMix(ref z); _s1 ^= SplitMix(ref z); _s2 ^= SplitMix(ref z); _s3 ^= SplitMix(ref z);
            if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
        }

        private static ulong SplitMix(ref ulong x)
        {
            ulong z = (x += 0x9E3779B97F4A7C15UL);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        private static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));

        public ulong Next()
        {
            ulong result = Rotl(_s1 * 5, 7) * 9;
            ulong t = _s1 << 17;
            _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3; _s2 ^= t; _s3 = Rotl(_s3, 45);
            return result;
        }

        public long Read(byte* buffer, int length, bool nonBlocking)
        {
            if (length <= 0) return 0;
            if (_source != null && _source.Fill(buffer, length)) return length;
            int i = 0;
            while (i < length)
            {
                ulong word = Next();
                for (int b = 0; b < 8 && i < length; b++, i++) { buffer[i] = (byte)word; word >>= 8; }
            }
            return length;
        }

        public long Write(byte* buffer, int length, bool nonBlocking)
        {
            ulong acc = 0;
            for (int i = 0; i < length; i++)
            {
                acc = (acc << 8) | buffer[i];
                if ((i & 7) == 7) { Mix(acc); acc = 0; }
            }
            if ((length & 7) != 0) Mix(acc);
            return length;
        }

        public long Ioctl(ulong request, ulong argument) => -Errno.ENOTTY;
        public bool PollReadable => true;
        public bool PollWritable => true;
        public bool Seekable => true;
        public bool Splices => true;
        public long BytesReadable => -Errno.ENOTTY;
    }
}
