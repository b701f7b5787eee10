// SymbolTable: panic-time lookups in the symbol file the build writes next to the kernel
// (Cosmos.targets, target AegisSymbols). The file is text, one record per '\n'-ended line:
//   F <start, hex> <size, hex> <ELF symbol name>     functions, from nm -n -S
//   L <address, hex> <line, decimal> <file>          line-table rows, from the DWARF line table
// Several F records can share a start (an exported alias such as RhpNewArray and the managed
// method it names); the managed name is preferred.
//
// Invariants: nothing is prepared at boot: every lookup scans the raw bytes once, touching
// only the span, and allocates only its result strings (the *Name forms and
// FormatFunctionName allocate nothing: app crash reports use them). Malformed lines are skipped; no
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

        /// <summary>How far past a symbol of size 0 (an assembly label) an address is still taken as
        /// its routine's: no routine of ours is longer, and a word far above the last label (a
        /// stack or data word in a stack scan) is then named as nothing.</summary>
        public const ulong LabelReach = 4096;

        /// <summary>The function whose [start, start + size) holds address (its ELF name, see Demangle);
        /// for symbols of size 0 (assembly labels), the nearest start at or below address when it is
        /// less than LabelReach below.</summary>
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

        /// <summary>TryFindFunction without allocating: where the function's ELF name lies in symbols.</summary>
        public static bool TryFindFunctionName(ReadOnlySpan<byte> symbols, ulong address, out int nameOffset, out int nameLength, out ulong start)
        {
            nameOffset = 0;
            nameLength = 0;
            start = 0;
            if (!FindFunction(symbols, address, out FunctionMatch match)) return false;
            nameOffset = match.NameOffset;
            nameLength = match.NameLength;
            start = match.Start;
            return true;
        }

        /// <summary>TryFindLine without allocating: where the file name lies in symbols, and the line.</summary>
        public static bool TryFindLineName(ReadOnlySpan<byte> symbols, ulong address, out int fileOffset, out int fileLength, out int line)
        {
            fileOffset = 0;
            fileLength = 0;
            line = 0;
            if (!FindFunction(symbols, address, out FunctionMatch function)) return false;
            bool found = false;
            ulong bestAddress = 0;
            int position = 0;
            while (NextLine(symbols, ref position, out int lineStart, out int lineLength))
            {
                ReadOnlySpan<byte> record = symbols.Slice(lineStart, lineLength);
                if (!TryParseLineRecord(record, out ulong rowAddress, out int rowLine, out int offset)) continue;
                if (rowAddress < function.Start || rowAddress > address || rowLine == 0) continue;
                if (found && rowAddress <= bestAddress) continue;
                found = true;
                bestAddress = rowAddress;
                line = rowLine;
                fileOffset = lineStart + offset;
                fileLength = lineLength - offset;
            }
            return found;
        }

        /// <summary>An allocation-free, simpler Demangle for reports made on paths that must not
        /// allocate: "Assembly_Namespace_Type__Method_1" becomes "Namespace.Type.Method" in
        /// destination (the assembly prefix dropped as Demangle does); a name of any other shape
        /// (generics, lambdas, runtime stubs) is copied unchanged. Returns the characters written
        /// (truncated to destination's length); bytes outside printable ASCII become '?'.</summary>
        public static int FormatFunctionName(ReadOnlySpan<byte> name, Span<char> destination) => FormatFunctionName(name, destination, null);

        /// <summary>As above; an app's assembly is not repeated in its namespace
        /// ("NullDeref_Aegis_Apps_NullDeref_Program__Read"), so leading segments that spell
        /// imageName (ignoring case and the underscores between them) are dropped too.</summary>
        public static int FormatFunctionName(ReadOnlySpan<byte> name, Span<char> destination, string imageName)
        {
            ReadOnlySpan<byte> text = name;
            if (StartsWith(text, "unbox_")) text = text.Slice(6);
            if (text.Length == 0 || !IsAsciiLetter(text[0]) || text.IndexOf((byte)'<') >= 0 || text.IndexOf((byte)'>') >= 0)
                return CopyRaw(name, destination);
            int prefix = AssemblyPrefixLength(text);
            if (prefix == 0) prefix = ImagePrefixLength(text, imageName);
            text = text.Slice(prefix);
            // The method starts after the last run of two or more underscores ("___ctor": ".ctor").
            int runEnd = -1, runStart = -1;
            for (int i = text.Length - 1; i > 0; i--)
            {
                if (text[i] == (byte)'_' && text[i - 1] == (byte)'_')
                {
                    runEnd = i + 1;
                    runStart = i - 1;
                    while (runStart > 0 && text[runStart - 1] == (byte)'_') runStart--;
                    break;
                }
            }
            if (runStart <= 0 || runEnd >= text.Length) return CopyRaw(name, destination);
            ReadOnlySpan<byte> method = text.Slice(runEnd);
            bool constructor = runEnd - runStart >= 3 && (StartsWith(method, "ctor") || StartsWith(method, "cctor"));
            ReadOnlySpan<byte> type = text.Slice(0, runStart);
            if (type.Length == 0 || type[type.Length - 1] == (byte)'_') return CopyRaw(name, destination);
            // Method: drop the overload ordinals ("_0", "_1_2"); it must be an identifier.
            int methodLength = method.Length;
            while (true)
            {
                int underscore = LastIndex(method.Slice(0, methodLength), (byte)'_');
                if (underscore <= 0 || !AllDigits(method.Slice(underscore + 1, methodLength - underscore - 1))) break;
                methodLength = underscore;
            }
            method = method.Slice(0, methodLength);
            for (int i = 0; i < method.Length; i++)
                if (!IsIdentifierByte(method[i])) return CopyRaw(name, destination);

            int written = 0;
            int segmentStart = 0;
            for (int i = 0; i <= type.Length; i++)
            {
                if (i < type.Length && type[i] != (byte)'_') continue;
                ReadOnlySpan<byte> segment = type.Slice(segmentStart, i - segmentStart);
                segmentStart = i + 1;
                if (segment.Length == 0) return CopyRaw(name, destination);
                if (AllDigits(segment)) continue; // generic arity
                if (written > 0) Append(destination, ref written, '.');
                for (int j = 0; j < segment.Length; j++) Append(destination, ref written, (char)segment[j]);
            }
            Append(destination, ref written, '.');
            if (constructor)
                Append(destination, ref written, '.');
            for (int j = 0; j < method.Length; j++) Append(destination, ref written, (char)method[j]);
            return written;
        }

        private static int AssemblyPrefixLength(ReadOnlySpan<byte> text)
        {
            if (StartsWith(text, "Aegis_Runtime_") && text.Length > 14) return 14;
            int end = 0;
            for (int words = 1; words <= 4; words++)
            {
                int underscore = text.Slice(end).IndexOf((byte)'_');
                if (underscore <= 0) break;
                underscore += end;
                if (underscore + 1 >= text.Length || text[underscore + 1] == (byte)'_') break;
                int prefixLength = underscore + 1;
                if (text.Length >= 2 * prefixLength && SameBytes(text.Slice(0, prefixLength), text.Slice(prefixLength, prefixLength)))
                    return prefixLength;
                end = underscore + 1;
            }
            return 0;
        }

        /// <summary>Where the name of the type whose MethodTable is at methodTable lies in symbols
        /// (its T record: "T &lt;address&gt; _ZTV&lt;n&gt;&lt;Assembly_Namespace_Type&gt;"). No allocation.</summary>
        public static bool TryFindTypeName(ReadOnlySpan<byte> symbols, ulong methodTable, out int nameOffset, out int nameLength)
        {
            nameOffset = 0;
            nameLength = 0;
            int position = 0;
            while (NextLine(symbols, ref position, out int lineStart, out int lineLength))
            {
                ReadOnlySpan<byte> record = symbols.Slice(lineStart, lineLength);
                if (record.Length < 4 || record[0] != (byte)'T' || record[1] != (byte)' ') continue;
                int index = 2;
                if (!TryParseHex(record, ref index, out ulong address) || address != methodTable || index >= record.Length) continue;
                nameOffset = lineStart + index;
                nameLength = lineLength - index;
                return true;
            }
            return false;
        }

        /// <summary>A type's readable name from its T record's symbol, without allocating:
        /// "_ZTV46Aegis_Runtime_System_InvalidOperationException" becomes
        /// "System.InvalidOperationException" (the assembly prefix dropped as for methods).</summary>
        public static int FormatTypeName(ReadOnlySpan<byte> symbol, Span<char> destination, string imageName)
        {
            ReadOnlySpan<byte> text = symbol;
            if (StartsWith(text, "_ZTV"))
            {
                int i = 4;
                while (i < text.Length && text[i] >= (byte)'0' && text[i] <= (byte)'9') i++;
                text = text.Slice(i);
            }
            if (text.Length == 0 || text.IndexOf((byte)'<') >= 0) return CopyRaw(symbol, destination);
            int prefix = AssemblyPrefixLength(text);
            if (prefix == 0) prefix = ImagePrefixLength(text, imageName);
            text = text.Slice(prefix);
            int written = 0;
            int segmentStart = 0;
            for (int i = 0; i <= text.Length; i++)
            {
                if (i < text.Length && text[i] != (byte)'_') continue;
                ReadOnlySpan<byte> segment = text.Slice(segmentStart, i - segmentStart);
                segmentStart = i + 1;
                if (segment.Length == 0 || AllDigits(segment)) continue;
                if (written > 0) Append(destination, ref written, '.');
                for (int j = 0; j < segment.Length; j++)
                    Append(destination, ref written, segment[j] >= 0x20 && segment[j] < 0x7F ? (char)segment[j] : '?');
            }
            return written;
        }

        /// <summary>The length of the leading "Seg1_Seg2_" (at most 4 segments, before the method
        /// separator) whose letters are imageName's, ignoring case; 0 if none.</summary>
        private static int ImagePrefixLength(ReadOnlySpan<byte> text, string imageName)
        {
            if (string.IsNullOrEmpty(imageName)) return 0;
            int matched = 0;
            int segments = 0;
            for (int i = 0; i < text.Length; i++)
            {
                byte c = text[i];
                if (c == (byte)'_')
                {
                    if (i + 1 < text.Length && text[i + 1] == (byte)'_') return 0;
                    segments++;
                    if (matched == imageName.Length) return i + 1;
                    if (segments == 4) return 0;
                    continue;
                }
                if (matched >= imageName.Length || Lower(c) != Lower((byte)imageName[matched])) return 0;
                matched++;
            }
            return 0;
        }

        private static byte Lower(byte c) => c >= (byte)'A' && c <= (byte)'Z' ? (byte)(c + 32) : c;

        /// <summary>The last index of value in text, or -1 (the kernel's runtime has no span LastIndexOf).</summary>
        public static int LastIndex(ReadOnlySpan<byte> text, byte value)
        {
            for (int i = text.Length - 1; i >= 0; i--)
                if (text[i] == value) return i;
            return -1;
        }

        private static bool SameBytes(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++)
                if (a[i] != b[i]) return false;
            return true;
        }

        private static int CopyRaw(ReadOnlySpan<byte> name, Span<char> destination)
        {
            int written = 0;
            for (int i = 0; i < name.Length; i++)
                Append(destination, ref written, name[i] >= 0x20 && name[i] < 0x7F ? (char)name[i] : '?');
            return written;
        }

        private static void Append(Span<char> destination, ref int written, char c)
        {
            if (written < destination.Length) destination[written++] = c;
        }

        private static bool StartsWith(ReadOnlySpan<byte> text, string prefix)
        {
            if (text.Length < prefix.Length) return false;
            for (int i = 0; i < prefix.Length; i++)
                if (text[i] != (byte)prefix[i]) return false;
            return true;
        }

        private static bool AllDigits(ReadOnlySpan<byte> text)
        {
            if (text.Length == 0) return false;
            for (int i = 0; i < text.Length; i++)
                if (text[i] < (byte)'0' || text[i] > (byte)'9') return false;
            return true;
        }

        private static bool IsAsciiLetter(byte c) => (c >= (byte)'a' && c <= (byte)'z') || (c >= (byte)'A' && c <= (byte)'Z');

        private static bool IsIdentifierByte(byte c) => IsAsciiLetter(c) || (c >= (byte)'0' && c <= (byte)'9') || c == (byte)'_';

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
            if (nearestFound && !nearestSized && nearestLabelFound && address - nearest.Start < LabelReach)
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
