// SymbolBundle: the symbol files of every app in one boot module, "app-symbols" (Cosmos.targets,
// target AegisIso, writes it as /boot/apps.sym). GRUB's time for a module grows with the modules
// loaded before it: one module for the 61 symbol files of the test image instead of 61 modules
// took a quarter off a boot (docs/build.md, "The ISO").
// The format: entries one after another, each a header line "@ NAME LENGTH\n" (NAME without
// spaces, LENGTH in decimal) followed by exactly LENGTH bytes, the app's NAME.sym as the build
// wrote it (docs/build.md, "The symbol file"). Nothing follows the last entry.
// Invariants: reading allocates nothing and never throws; a malformed header or an entry that
// runs past the end ends the walk (the entries before it stay good).
using System;

namespace Aegis.Kernel.Core
{
    public static class SymbolBundle
    {
        /// <summary>The module command line GRUB gives the bundle.</summary>
        public const string ModuleName = "app-symbols";

        private const int MaxLengthDigits = 10;

        /// <summary>Reads the entry at offset and moves offset past it: the app's name
        /// (bundle[nameOffset..+nameLength]) and its symbol file (bundle[fileOffset..+fileLength]).
        /// False at the end of the bundle or at a malformed entry.</summary>
        public static bool TryReadEntry(ReadOnlySpan<byte> bundle, ref int offset,
            out int nameOffset, out int nameLength, out int fileOffset, out int fileLength)
        {
            nameOffset = nameLength = fileOffset = fileLength = 0;
            if (offset < 0 || offset > bundle.Length - 2 || bundle[offset] != (byte)'@' || bundle[offset + 1] != (byte)' ')
                return false;
            int position = offset + 2;
            int name = position;
            while (position < bundle.Length && bundle[position] != (byte)' ' && bundle[position] != (byte)'\n') position++;
            if (position == name || position >= bundle.Length || bundle[position] != (byte)' ') return false;
            int nameEnd = position;
            position++;
            long length = 0;
            int digits = 0;
            while (position < bundle.Length && bundle[position] >= (byte)'0' && bundle[position] <= (byte)'9')
            {
                if (++digits > MaxLengthDigits) return false;
                length = length * 10 + (bundle[position] - (byte)'0');
                position++;
            }
            if (digits == 0 || position >= bundle.Length || bundle[position] != (byte)'\n') return false;
            position++;
            if (length > bundle.Length - position) return false;
            nameOffset = name;
            nameLength = nameEnd - name;
            fileOffset = position;
            fileLength = (int)length;
            offset = position + (int)length;
            return true;
        }
    }
}
