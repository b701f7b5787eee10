// The System V x86-64 process stack a Linux program starts with (psABI 3.4.1; Linux's
// fs/binfmt_elf.c create_elf_tables lays it out the same way):
//
//   top ->  [ AT_EXECFN string | env strings | arg strings | "x86_64\0" | 16 random bytes ]
//           padding to 16 bytes
//           AT_NULL pair, auxv pairs (type, value)
//           NULL, envp[envc - 1] .. envp[0]
//           NULL, argv[argc - 1] .. argv[0]
//   RSP ->  argc                                       (RSP is 16-byte aligned, as the ABI requires)
//
// Pure: writes through a host pointer standing for the program's address 'top' (on Aegis they
// are the same: the libOS writes the program's stack pages directly), so it is host-tested
// (Aegis.Tests/Host/LinuxProgramStackTests.cs). Invariant: nothing is written outside
// [top - Size(...), top); Build returns 0 when the stack would not fit in capacity.
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux
{
    /// <summary>Linux's auxiliary vector types (include/uapi/linux/auxvec.h, asm/auxvec.h).</summary>
    public static class AuxType
    {
        public const ulong Null = 0, Phdr = 3, Phent = 4, Phnum = 5, Pagesz = 6, Base = 7, Flags = 8, Entry = 9,
            Uid = 11, Euid = 12, Gid = 13, Egid = 14, Platform = 15, Hwcap = 16, Clktck = 17, Secure = 23,
            Random = 25, Hwcap2 = 26, Execfn = 31;
    }

    public sealed class StackImage
    {
        /// <summary>Each argument / environment string, as bytes without the NUL.</summary>
        public readonly List<byte[]> Arguments = new List<byte[]>();
        public readonly List<byte[]> Environment = new List<byte[]>();
        public byte[] ExecutableName;
        public byte[] Random = new byte[16];
        /// <summary>(type, value) pairs in order; Platform/Random/Execfn values are filled in by Build.</summary>
        public readonly List<ulong> Auxiliary = new List<ulong>();

        public void Aux(ulong type, ulong value)
        {
            Auxiliary.Add(type);
            Auxiliary.Add(value);
        }
    }

    public static unsafe class ProgramStack
    {
        public static readonly byte[] Platform = { (byte)'x', (byte)'8', (byte)'6', (byte)'_', (byte)'6', (byte)'4' };

        /// <summary>Bytes the image takes below top (strings, padding and tables).</summary>
        public static ulong Size(StackImage image)
        {
            ulong strings = StringBytes(image);
            ulong table = TableBytes(image);
            return ((strings + 15) & ~15UL) + table + 15;
        }

        private static ulong StringBytes(StackImage image)
        {
            ulong bytes = 16 + (ulong)Platform.Length + 1 + (ulong)image.ExecutableName.Length + 1;
            foreach (byte[] s in image.Arguments) bytes += (ulong)s.Length + 1;
            foreach (byte[] s in image.Environment) bytes += (ulong)s.Length + 1;
            return bytes;
        }

        private static ulong TableBytes(StackImage image)
            => 8UL * (ulong)(1 + image.Arguments.Count + 1 + image.Environment.Count + 1)
               + 8UL * (ulong)image.Auxiliary.Count + 16;

        /// <summary>Writes the image below the program address top (host pointer hostTop stands for
        /// it); returns the program's initial RSP, or 0 if it needs more than capacity bytes.</summary>
        public static ulong Build(StackImage image, ulong top, byte* hostTop, ulong capacity)
        {
            if (Size(image) > capacity || (top & 15) != 0) return 0;
            long delta = (long)hostTop - (long)top;
            ulong at = top;

            at = Put(image.ExecutableName, at, delta);
            ulong execfn = at;
            ulong[] environment = new ulong[image.Environment.Count];
            for (int i = image.Environment.Count - 1; i >= 0; i--)
                environment[i] = at = Put(image.Environment[i], at, delta);
            ulong[] arguments = new ulong[image.Arguments.Count];
            for (int i = image.Arguments.Count - 1; i >= 0; i--)
                arguments[i] = at = Put(image.Arguments[i], at, delta);
            ulong platform = at = Put(Platform, at, delta);
            at -= 16;
            for (int i = 0; i < 16; i++) *(byte*)((long)at + delta + i) = image.Random[i];
            ulong random = at;

            at &= ~15UL;
            ulong rsp = (at - TableBytes(image)) & ~15UL;
            ulong* table = (ulong*)((long)rsp + delta);
            int w = 0;
            table[w++] = (ulong)image.Arguments.Count;
            for (int i = 0; i < arguments.Length; i++) table[w++] = arguments[i];
            table[w++] = 0;
            for (int i = 0; i < environment.Length; i++) table[w++] = environment[i];
            table[w++] = 0;
            for (int i = 0; i + 1 < image.Auxiliary.Count; i += 2)
            {
                ulong type = image.Auxiliary[i], value = image.Auxiliary[i + 1];
                if (type == AuxType.Platform) value = platform;
                else if (type == AuxType.Random) value = random;
                else if (type == AuxType.Execfn) value = execfn;
                table[w++] = type;
                table[w++] = value;
            }
            table[w++] = AuxType.Null;
            table[w++] = 0;
            return rsp;
        }

        /// <summary>Copies s and a NUL just below at; returns where it starts.</summary>
        private static ulong Put(byte[] s, ulong at, long delta)
        {
            at -= (ulong)s.Length + 1;
            byte* p = (byte*)((long)at + delta);
            for (int i = 0; i < s.Length; i++) p[i] = s[i];
            p[s.Length] = 0;
            return at;
        }
    }
}
