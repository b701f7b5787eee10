// Turns code addresses into "Namespace.Type.Method (File.cs:line)" using the symbol file that
// GRUB loads as the module named "symbols" (built by Cosmos.targets' AegisSymbols step), and
// MethodTable addresses into type names (the T records). Scanned only when a report is made.
using System;

namespace Aegis.Kernel.Diagnostics
{
    internal static unsafe class Symbolizer
    {
        private static byte* s_symbols;
        private static int s_length;

        public static void SetSymbolFile(byte* start, int length)
        {
            s_symbols = start;
            s_length = length;
        }

        public static bool HasSymbols => s_symbols != null;

        private static ReadOnlySpan<byte> Symbols => new ReadOnlySpan<byte>(s_symbols, s_length);

        /// <summary>"Method (File.cs:12)" or "Method+0x1c", or null when the address is unknown.</summary>
        public static string DescribeCode(ulong address)
        {
            if (s_symbols == null)
                return null;
            if (!Core.SymbolTable.TryFindFunction(Symbols, address, out string name, out ulong start))
                return null;
            string method = Core.SymbolTable.Demangle(name);
            if (Core.SymbolTable.TryFindLine(Symbols, address, out string file, out int line))
                return method + " (" + FileName(file) + ":" + line.ToString() + ")";
            return method + "+0x" + (address - start).ToString("x");
        }

        /// <summary>The runtime's code-name resolver (Exception.StackTrace): DescribeCode for an address.</summary>
        internal static string NameCode(nint address) => DescribeCode((ulong)address);

        private static string FileName(string path)
        {
            int slash = path.LastIndexOf('/');
            return slash < 0 ? path : path.Substring(slash + 1);
        }

        /// <summary>The type name of a MethodTable, from its symbol "_ZTV&lt;n&gt;&lt;Assembly_Namespace_Type&gt;".</summary>
        public static string TypeName(nint methodTable)
        {
            if (s_symbols == null)
                return null;
            ReadOnlySpan<byte> symbols = Symbols;
            string wanted = ((ulong)methodTable).ToString("x16");
            int position = 0;
            while (position < symbols.Length)
            {
                int end = position;
                while (end < symbols.Length && symbols[end] != (byte)'\n') end++;
                ReadOnlySpan<byte> line = symbols.Slice(position, end - position);
                position = end + 1;
                // "T <16 hex digits> <symbol>"
                if (line.Length < 20 || line[0] != (byte)'T' || line[1] != (byte)' ')
                    continue;
                bool match = true;
                for (int i = 0; i < 16; i++)
                {
                    if (line[2 + i] != (byte)wanted[i]) { match = false; break; }
                }
                if (match)
                    return TypeNameFromSymbol(line.Slice(19));
            }
            return null;
        }

        private static string TypeNameFromSymbol(ReadOnlySpan<byte> symbol)
        {
            char[] text = new char[symbol.Length];
            for (int i = 0; i < symbol.Length; i++) text[i] = (char)symbol[i];
            string name = new string(text);
            if (name.StartsWith("_ZTV"))
            {
                int i = 4;
                while (i < name.Length && char.IsDigit(name[i])) i++;
                name = name.Substring(i);
            }
            if (name.StartsWith("Aegis_Runtime_")) name = name.Substring("Aegis_Runtime_".Length);
            else if (name.StartsWith("Aegis_Kernel_")) name = name.Substring("Aegis_Kernel_".Length);
            if (name == "Object" || name == "String") return "System." + name;
            return name.Replace('_', '.');
        }
    }
}
