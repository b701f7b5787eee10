// SymbolTable: panic-time lookups in the symbol file the build writes next to the kernel
// (Cosmos.targets, target AegisSymbols). The file is text, one record per '\n'-ended line:
//   F <start, hex> <size, hex> <ELF symbol name>     functions, from nm -n -S
//   L <address, hex> <line, decimal> <file>          line-table rows, from the DWARF line table
// Several F records can share a start (an exported alias such as RhpNewArray and the managed
// method it names); the managed name is preferred.
//
// Invariants: nothing is prepared at boot: every lookup scans the raw bytes once, touching
// only the span, and allocates only its result strings. Malformed lines are skipped; no
// input makes a lookup throw. Order in the file is not relied on.
// Addresses from a stack walk are return addresses: pass address - 1 to name the call site.
using System;

namespace Aegis.Kernel.Core
{
    public static class SymbolTable
    {
        private const byte NewLine = (byte)'\n';
        private const int MaxHexDigits = 16;
        private const int MaxLineDigits = 9;

        /// <summary>The function whose [start, start + size) holds address (its ELF name, see Demangle);
        /// for symbols of size 0 (assembly labels), the nearest start at or below address.</summary>
        public static bool TryFindFunction(ReadOnlySpan<byte> symbols, ulong address, out string name, out ulong start)
        {
            name = null;
            start = 0;
            if (!FindFunction(symbols, address, out FunctionMatch match)) return false;
            name = ToText(symbols.Slice(match.NameOffset, match.NameLength));
            start = match.Start;
            return true;
        }

        /// <summary>The source line of the L record with the greatest address at or below address
        /// that lies in the same function.</summary>
        public static bool TryFindLine(ReadOnlySpan<byte> symbols, ulong address, out string file, out int line)
        {
            file = null;
            line = 0;
            if (!FindFunction(symbols, address, out FunctionMatch function)) return false;

            bool found = false;
            ulong bestAddress = 0;
            int bestFileOffset = 0, bestFileLength = 0, bestLine = 0;
            int position = 0;
            while (NextLine(symbols, ref position, out int lineStart, out int lineLength))
            {
                ReadOnlySpan<byte> record = symbols.Slice(lineStart, lineLength);
                if (!TryParseLineRecord(record, out ulong rowAddress, out int rowLine, out int fileOffset)) continue;
                if (rowAddress < function.Start || rowAddress > address || rowLine == 0) continue;
                if (found && rowAddress <= bestAddress) continue;
                found = true;
                bestAddress = rowAddress;
                bestLine = rowLine;
                bestFileOffset = lineStart + fileOffset;
                bestFileLength = lineLength - fileOffset;
            }
            if (!found) return false;
            file = ToText(symbols.Slice(bestFileOffset, bestFileLength));
            line = bestLine;
            return true;
        }

        /// <summary>A readable C# name for an ILC symbol name; unknown shapes come back unchanged.</summary>
        public static string Demangle(string elfName) => IlcNameDemangler.Demangle(elfName);

        /// <summary>"Namespace.Type.Method+0x1c (File.cs:42)", or "0x... (no symbol)".</summary>
        public static string Describe(ReadOnlySpan<byte> symbols, ulong address)
        {
            if (!TryFindFunction(symbols, address, out string name, out ulong start))
                return "0x" + address.ToString("X16") + " (no symbol)";
            string text = Demangle(name) + "+0x" + (address - start).ToString("X");
            if (TryFindLine(symbols, address, out string file, out int line))
                text = text + " (" + file + ":" + line.ToString() + ")";
            return text;
        }

        private struct FunctionMatch
        {
            public ulong Start;
            public int NameOffset;
            public int NameLength;
            public bool IsManaged;
        }

        private static bool FindFunction(ReadOnlySpan<byte> symbols, ulong address, out FunctionMatch best)
        {
            best = default;
            bool containingFound = false;
            FunctionMatch nearest = default;
            bool nearestFound = false, nearestSized = false, nearestLabelFound = false;

            int position = 0;
            while (NextLine(symbols, ref position, out int lineStart, out int lineLength))
            {
                ReadOnlySpan<byte> record = symbols.Slice(lineStart, lineLength);
                if (!TryParseFunctionRecord(record, out ulong start, out ulong size, out int nameOffset)) continue;
                if (start > address) continue;
                FunctionMatch candidate = new FunctionMatch
                {
                    Start = start,
                    NameOffset = lineStart + nameOffset,
                    NameLength = lineLength - nameOffset,
                    IsManaged = IsManagedName(record.Slice(nameOffset)),
                };

                if (size != 0 && address - start < size && (!containingFound || IsBetter(candidate, best)))
                {
                    best = candidate;
                    containingFound = true;
                }

                if (!nearestFound || start > nearest.Start)
                {
                    nearestFound = true;
                    nearestSized = false;
                    nearestLabelFound = false;
                    nearest = candidate;
                }
                if (start == nearest.Start)
                {
                    if (size != 0) nearestSized = true;
                    else if (!nearestLabelFound || IsBetter(candidate, nearest))
                    {
                        nearest = candidate;
                        nearestLabelFound = true;
                    }
                }
            }
            if (containingFound) return true;
            if (nearestFound && !nearestSized && nearestLabelFound)
            {
                best = nearest;
                return true;
            }
            return false;
        }

        /// <summary>Inner functions win over outer ones; at one start, a managed name wins over an alias.</summary>
        private static bool IsBetter(FunctionMatch candidate, FunctionMatch current)
            => candidate.Start > current.Start || (candidate.Start == current.Start && candidate.IsManaged && !current.IsManaged);

        /// <summary>ILC's names are Type__Method; exported aliases (RhpNewFast, aegis_kernel_main)
        /// and runtime stubs (__managed__Startup) are not.</summary>
        private static bool IsManagedName(ReadOnlySpan<byte> name)
        {
            if (name.Length == 0 || name[0] == (byte)'_') return false;
            for (int i = 1; i + 1 < name.Length; i++)
            {
                if (name[i] == (byte)'_' && name[i + 1] == (byte)'_') return true;
            }
            return false;
        }

        /// <summary>"F start size name": name is the rest of the line.</summary>
        private static bool TryParseFunctionRecord(ReadOnlySpan<byte> record, out ulong start, out ulong size, out int nameOffset)
        {
            start = 0;
            size = 0;
            nameOffset = 0;
            if (record.Length < 2 || record[0] != (byte)'F' || record[1] != (byte)' ') return false;
            int index = 2;
            if (!TryParseHex(record, ref index, out start) || !TryParseHex(record, ref index, out size)) return false;
            nameOffset = index;
            return index < record.Length;
        }

        /// <summary>"L address line file": file is the rest of the line.</summary>
        private static bool TryParseLineRecord(ReadOnlySpan<byte> record, out ulong address, out int line, out int fileOffset)
        {
            address = 0;
            line = 0;
            fileOffset = 0;
            if (record.Length < 2 || record[0] != (byte)'L' || record[1] != (byte)' ') return false;
            int index = 2;
            if (!TryParseHex(record, ref index, out address) || !TryParseDecimal(record, ref index, out line)) return false;
            fileOffset = index;
            return index < record.Length;
        }

        /// <summary>1 to 16 hex digits then one space; index moves past the space.</summary>
        private static bool TryParseHex(ReadOnlySpan<byte> record, ref int index, out ulong value)
        {
            value = 0;
            int digits = 0;
            while (index < record.Length && record[index] != (byte)' ')
            {
                int digit = HexDigit(record[index]);
                if (digit < 0 || ++digits > MaxHexDigits) return false;
                value = (value << 4) | (uint)digit;
                index++;
            }
            if (digits == 0 || index >= record.Length) return false;
            index++;
            return true;
        }

        /// <summary>1 to 9 decimal digits then one space; index moves past the space.</summary>
        private static bool TryParseDecimal(ReadOnlySpan<byte> record, ref int index, out int value)
        {
            value = 0;
            int digits = 0;
            while (index < record.Length && record[index] != (byte)' ')
            {
                byte c = record[index];
                if (c < (byte)'0' || c > (byte)'9' || ++digits > MaxLineDigits) return false;
                value = value * 10 + (c - '0');
                index++;
            }
            if (digits == 0 || index >= record.Length) return false;
            index++;
            return true;
        }

        private static int HexDigit(byte c)
        {
            if (c >= (byte)'0' && c <= (byte)'9') return c - '0';
            if (c >= (byte)'a' && c <= (byte)'f') return c - 'a' + 10;
            if (c >= (byte)'A' && c <= (byte)'F') return c - 'A' + 10;
            return -1;
        }

        /// <summary>The next line at position, without its '\n' and trailing '\r' or spaces.</summary>
        private static bool NextLine(ReadOnlySpan<byte> symbols, ref int position, out int lineStart, out int lineLength)
        {
            lineStart = position;
            lineLength = 0;
            if (position >= symbols.Length) return false;
            int newline = symbols.Slice(position).IndexOf(NewLine);
            int length = newline < 0 ? symbols.Length - position : newline;
            position += length + 1;
            while (length > 0 && (symbols[lineStart + length - 1] == (byte)'\r' || symbols[lineStart + length - 1] == (byte)' '))
                length--;
            lineLength = length;
            return true;
        }

        /// <summary>One char per byte; bytes outside printable ASCII become '?'.</summary>
        private static string ToText(ReadOnlySpan<byte> bytes)
        {
            char[] chars = new char[bytes.Length];
            for (int i = 0; i < bytes.Length; i++)
            {
                byte b = bytes[i];
                chars[i] = b >= 0x20 && b < 0x7F ? (char)b : '?';
            }
            return new string(chars);
        }
    }
}
