// utf8-text: prints non-ASCII text through the console (LibOS.Base Console: UTF-16 to UTF-8) and
// raw bytes through ConsoleWrite: a character split across two calls, and forgery attempts the
// kernel must turn into '?' (a C1 NEL "newline", U+2028, a right-to-left override, a stray
// continuation byte, an overlong '/'). Boot test: NonAsciiTextReachesTheSerialConsoleAsUtf8
// (Aegis.Tests/Boot/KernelBootTests.cs) reads the exact text.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Utf8Text
{
    internal static unsafe class Program
    {
        private static void Raw(params byte[] bytes)
        {
            fixed (byte* p = bytes)
                Console.Write(p, bytes.Length);
        }

        private static int Main()
        {
            Console.WriteLine("utf8-text: héllo, π ≈ 3.14, 日本, 🙂");
            Console.WriteLine("utf8-text: " + $"{1.0 / 0}" + " " + $"{-1.5e-9}" + " " + 0.1f.ToString());
            // "split: €" with the euro sign (E2 82 AC) cut between two system calls.
            Raw((byte)'s', (byte)'p', (byte)'l', (byte)'i', (byte)'t', (byte)':', (byte)' ', 0xE2, 0x82);
            Raw(0xAC, (byte)'\n');
            // Forgeries: NEL (C2 85), U+2028 (E2 80 A8), RLO (E2 80 AE), a stray 0x80, an overlong '/' (C0 AF).
            Raw((byte)'f', (byte)'o', (byte)'r', (byte)'g', (byte)'e', (byte)':', 0xC2, 0x85, (byte)'|', 0xE2, 0x80, 0xA8, (byte)'|',
                0xE2, 0x80, 0xAE, (byte)'|', 0x80, (byte)'|', 0xC0, 0xAF, (byte)'\n');
            return 0;
        }
    }
}
