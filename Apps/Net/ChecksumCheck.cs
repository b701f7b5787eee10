// net:checksum: the Internet checksum as the guest computes it (LibOS.Net's Checksum.Add: the
// assembly sum, Native/checksum.S) over fixed spans: every start offset 0..7 within a word, every
// length up to 130 and the lengths around a segment, a page and 64 KiB, over random bytes and over
// bytes of all ones (the longest carry chains). It prints a digest of every result; the host test
// (NetworkStackTests.TheGuestsChecksumMatchesTheHostsOnEverySpan) computes the same spans with
// the host's C# loop and compares. Each span is also checked here against the C# loop
// (Checksum.AddPortable), so a difference names its first spans.
using System;
using Aegis.LibOS;
using Aegis.LibOS.Net;

namespace Aegis.Apps.Net
{
    internal static class ChecksumCheck
    {
        /// <summary>The spans' lengths besides 0..130 (the host test has the same list).</summary>
        internal static readonly int[] Lengths = { 255, 256, 257, 1459, 1460, 1461, 1480, 1500, 4095, 4096, 4097, 65535, 65536, 65537, 69000 };
        internal const int BufferBytes = 69_016;

        internal static int Run()
        {
            var random = new byte[BufferBytes];
            ulong x = 0x9E3779B97F4A7C15UL;
            for (int i = 0; i < random.Length; i++)
            {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                random[i] = (byte)(x >> 24);
            }
            var ones = new byte[BufferBytes];
            for (int i = 0; i < ones.Length; i++) ones[i] = 0xFF;
            ulong digest = 0;
            int cases = 0, differ = 0;
            for (int kind = 0; kind < 2; kind++)
            {
                byte[] bytes = kind == 0 ? random : ones;
                for (int offset = 0; offset < 8; offset++)
                    for (int n = 0; n < 131 + Lengths.Length; n++)
                    {
                        int length = n < 131 ? n : Lengths[n - 131];
                        uint start = (uint)(n % 3 == 0 ? 0 : n % 3 == 1 ? 0xFFFF : 0x1FFFE);
                        var span = new ReadOnlySpan<byte>(bytes, offset, length);
                        uint sum = Checksum.Add(start, span), reference = Checksum.AddPortable(start, span);
                        ushort finished = Checksum.Finish(sum);
                        digest = digest * 1_000_003UL + finished;
                        cases++;
                        if (Checksum.Finish(reference) != finished && ++differ <= 8)
                            Console.WriteLine("net: checksum: " + (kind == 0 ? "random" : "ones") + " offset " + offset.ToString() + " length " + length.ToString()
                                + ": " + finished.ToString() + ", the C# loop " + Checksum.Finish(reference).ToString());
                    }
            }
            Console.WriteLine("net: checksum: " + cases.ToString() + " spans, digest " + digest.ToString() + ", " + differ.ToString() + " differ from the C# loop");
            return differ == 0 ? 0 : 1;
        }
    }
}
