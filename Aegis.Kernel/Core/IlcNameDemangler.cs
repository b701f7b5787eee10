// IlcNameDemangler: turns the ELF symbol names ILC gives managed methods back into C# names
// for panic reports. ILC's scheme, as seen in Aegis.Kernel.sym:
//   <assembly>_<namespace>_<type>__<method>[_<overload>][<method type arguments>]
// with every '.', '<', '>', '`', '|' of the original replaced by '_'. Examples:
//   Aegis_Kernel_Aegis_Kernel_KernelLog__Write_0            -> Aegis.Kernel.KernelLog.Write
//   Aegis_Runtime_System_Span_1<Char>__Slice_0              -> System.Span<Char>.Slice
//   Aegis_Runtime_..._Dictionary_2<System___Canon__Int32>__FindEntry
//                                                   -> System.Collections.Generic.Dictionary<__Canon,Int32>.FindEntry
//   Aegis_Runtime_System_ArgumentException___ctor_1         -> System.ArgumentException..ctor
//   ..._NameProbe___c__DisplayClass0_0___Run_b__0           -> ....NameProbe.Run.<lambda>
//   ..._NameProbe___Run_g__Local_0_3                         -> ....NameProbe.Run.Local
//   String__Concat_2, unbox_Int32__Equals_0                  -> String.Concat, Int32.Equals
// Nested types and namespaces both use '_', so a nested type prints as Outer.Nested, and a
// generic type's arguments print after the innermost name (List.Enumerator<Int32>).
// The mangling loses information: anything that does not fit these shapes (runtime stubs such
// as __managed__Startup, names with stray underscores) is returned unchanged. Never throws.
using System;
using System.Collections.Generic;
using System.Text;

namespace Aegis.Kernel.Core
{
    internal static class IlcNameDemangler
    {
        private const string CanonicalType = "System___Canon";
        private const string RuntimeAssemblyPrefix = "Aegis_Runtime_";
        private const string UnboxingStubPrefix = "unbox_";
        private const int LongestRepeatedPrefix = 4;

        public static string Demangle(string name)
        {
            if (name == null || name.Length == 0) return name;
            string text = StartsWithAt(name, 0, UnboxingStubPrefix) ? name.Substring(UnboxingStubPrefix.Length) : name;
            if (text.Length == 0 || !IsLetter(text[0])) return name;
            return DemangleMethod(StripAssemblyPrefix(text)) ?? name;
        }

        private static string DemangleMethod(string text)
        {
            string methodArguments = "";
            if (text[text.Length - 1] == '>')
            {
                int open = FindOpeningBracket(text, text.Length - 1);
                if (open <= 0) return null;
                methodArguments = RenderArguments(text, open + 1, text.Length - 1);
                if (methodArguments == null) return null;
                text = text.Substring(0, open);
            }

            if (TryFindGeneratedMethod(text, out string owner, out string outerMethod, out string generated))
            {
                string ownerType = RenderType(StripGeneratedClass(owner));
                string outer = RenderMethodName(outerMethod);
                if (ownerType == null || outer == null) return null;
                return ownerType + "." + outer + "." + generated + methodArguments;
            }

            int typeEnd = FindMethodSeparator(text, out int methodStart);
            if (typeEnd <= 0) return null;
            string type = RenderTypeOrStateMachine(text.Substring(0, typeEnd));
            string method = RenderMethodName(text.Substring(methodStart));
            if (type == null || method == null) return null;
            return type + "." + method + methodArguments;
        }

        /// <summary>Where the type ends and the method starts: the last run of two or more
        /// underscores outside angle brackets. "___ctor" keeps its third underscore (".ctor").</summary>
        private static int FindMethodSeparator(string text, out int methodStart)
        {
            methodStart = -1;
            int depth = 0;
            for (int i = text.Length - 1; i > 0; i--)
            {
                char c = text[i];
                if (c == '>') depth++;
                else if (c == '<') depth--;
                else if (depth == 0 && c == '_' && text[i - 1] == '_')
                {
                    int runEnd = i + 1;
                    int runStart = i - 1;
                    while (runStart > 0 && text[runStart - 1] == '_') runStart--;
                    if (runEnd - runStart >= 3 && IsConstructorName(text, runStart + 2))
                    {
                        methodStart = runStart + 2;
                        return runStart;
                    }
                    methodStart = runEnd;
                    return runEnd - 2;
                }
            }
            return -1;
        }

        /// <summary>Lambdas (<c>&lt;Outer&gt;b__1_0</c>) and local functions
        /// (<c>&lt;Outer&gt;g__Name|1_0</c>), mangled as <c>Owner___Outer_b__1_0</c>.</summary>
        private static bool TryFindGeneratedMethod(string text, out string owner, out string outerMethod, out string generated)
        {
            owner = null;
            outerMethod = null;
            generated = null;
            int lambda = LastIndexOf(text, "_b__");
            int local = LastIndexOf(text, "_g__");
            int marker = lambda > local ? lambda : local;
            if (marker <= 0) return false;

            string tail = text.Substring(marker + 4);
            if (marker == lambda)
            {
                if (!IsOrdinals(tail, 2)) return false;
                generated = "<lambda>";
            }
            else
            {
                generated = StripOrdinalSuffixes(tail, 2);
                if (generated.Length == 0 || generated.Length == tail.Length || !IsIdentifier(generated)) return false;
            }

            // The last run of three or more underscores before the marker: "__" + '<' of <Outer>.
            int runEnd = marker;
            while (runEnd >= 3 && !(text[runEnd - 1] == '_' && text[runEnd - 2] == '_' && text[runEnd - 3] == '_')) runEnd--;
            if (runEnd < 3 || runEnd >= marker) return false;
            int runStart = runEnd - 3;
            while (runStart > 0 && text[runStart - 1] == '_') runStart--;
            if (runStart == 0) return false;
            owner = text.Substring(0, runStart);
            outerMethod = text.Substring(runEnd, marker - runEnd);
            if (IsConstructorName("_" + outerMethod, 0)) outerMethod = "_" + outerMethod;
            return true;
        }

        /// <summary>Removes the closure class of a lambda's owner: <c>&lt;&gt;c</c> or <c>&lt;&gt;c__DisplayClass1_0</c>.</summary>
        private static string StripGeneratedClass(string owner)
        {
            int generatedClass = LastIndexOf(owner, "___c");
            if (generatedClass <= 0) return owner;
            string rest = owner.Substring(generatedClass + 4);
            if (rest.Length == 0) return owner.Substring(0, generatedClass);
            if (StartsWithAt(rest, 0, "__DisplayClass") && IsOrdinals(rest.Substring(14), 2))
                return owner.Substring(0, generatedClass);
            return owner;
        }

        /// <summary>A type, or an iterator/async state machine <c>Owner+&lt;Method&gt;d__3</c> shown as Owner.Method.</summary>
        private static string RenderTypeOrStateMachine(string text)
        {
            string type = RenderType(text);
            if (type != null) return type;
            int nested = LastIndexOf(text, "___");
            if (nested <= 0) return null;
            string machine = text.Substring(nested + 3);
            int marker = LastIndexOf(machine, "_d__");
            if (marker <= 0 || !IsOrdinals(machine.Substring(marker + 4), 1)) return null;
            string owner = RenderType(text.Substring(0, nested));
            string method = RenderMethodName(machine.Substring(0, marker));
            return owner == null || method == null ? null : owner + "." + method;
        }

        private static string RenderType(string text)
        {
            string arguments = "";
            if (text.Length == 0) return null;
            if (text[text.Length - 1] == '>')
            {
                int open = FindOpeningBracket(text, text.Length - 1);
                if (open <= 0) return null;
                arguments = RenderArguments(text, open + 1, text.Length - 1);
                if (arguments == null) return null;
                text = text.Substring(0, open);
            }
            if (text.IndexOf('<') >= 0 || text.IndexOf('>') >= 0) return null;

            StringBuilder result = new StringBuilder(text.Length + arguments.Length);
            string[] segments = text.Split('_');
            for (int i = 0; i < segments.Length; i++)
            {
                string segment = segments[i];
                if (segment.Length == 0) return null;
                if (IsDigits(segment))
                {
                    if (i == 0) return null;
                    continue; // generic arity, `1 in the metadata name
                }
                if (!IsLetter(segment[0]) || !IsIdentifier(segment)) return null;
                if (result.Length > 0) result.Append('.');
                result.Append(segment);
            }
            result.Append(arguments);
            return result.ToString();
        }

        /// <summary>Type arguments text[from, to), separated by "__": rendered as "&lt;A,B&gt;".</summary>
        private static string RenderArguments(string text, int from, int to)
        {
            List<string> parts = new List<string>();
            int depth = 0;
            int partStart = from;
            int i = from;
            while (i < to)
            {
                char c = text[i];
                if (depth == 0 && i == partStart && StartsWithAt(text, i, CanonicalType) && i + CanonicalType.Length <= to)
                {
                    i += CanonicalType.Length;
                    continue;
                }
                if (c == '<') depth++;
                else if (c == '>') depth--;
                else if (depth == 0 && c == '_' && i + 1 < to && text[i + 1] == '_')
                {
                    parts.Add(text.Substring(partStart, i - partStart));
                    i += 2;
                    partStart = i;
                    continue;
                }
                if (depth < 0) return null;
                i++;
            }
            if (depth != 0) return null;
            parts.Add(text.Substring(partStart, to - partStart));

            StringBuilder result = new StringBuilder();
            result.Append('<');
            for (int p = 0; p < parts.Count; p++)
            {
                string argument = parts[p] == CanonicalType ? "__Canon" : RenderType(StripAssemblyPrefix(parts[p]));
                if (argument == null) return null;
                if (p > 0) result.Append(',');
                result.Append(argument);
            }
            result.Append('>');
            return result.ToString();
        }

        private static string RenderMethodName(string text)
        {
            if (IsConstructorName(text, 0))
                return StartsWithAt(text, 0, "_cctor") ? ".cctor" : ".ctor";
            string name = StripOrdinalSuffixes(text, 1);
            if (name.Length == 0 || !IsLetter(name[0]) || !IsIdentifier(name)) return null;
            return name;
        }

        /// <summary>"_ctor" or "_cctor" at index, alone or with an overload suffix.</summary>
        private static bool IsConstructorName(string text, int index)
        {
            int length;
            if (StartsWithAt(text, index, "_ctor")) length = 5;
            else if (StartsWithAt(text, index, "_cctor")) length = 6;
            else return false;
            string rest = text.Substring(index + length);
            return rest.Length == 0 || StripOrdinalSuffixes(rest, 1).Length == 0;
        }

        /// <summary>Removes up to count trailing "_digits" groups (overload and lambda ordinals).</summary>
        private static string StripOrdinalSuffixes(string text, int count)
        {
            for (int n = 0; n < count; n++)
            {
                int end = text.Length;
                int start = end;
                while (start > 0 && IsDigit(text[start - 1])) start--;
                if (start == end || start == 0 || text[start - 1] != '_') break;
                text = text.Substring(0, start - 1);
            }
            return text;
        }

        /// <summary>Removes the assembly name: Aegis_Runtime_, or a prefix of up to four words
        /// that the namespace repeats (Aegis_Kernel_Aegis_Kernel_ becomes Aegis_Kernel_).</summary>
        private static string StripAssemblyPrefix(string text)
        {
            if (StartsWithAt(text, 0, RuntimeAssemblyPrefix) && text.Length > RuntimeAssemblyPrefix.Length)
                return text.Substring(RuntimeAssemblyPrefix.Length);
            int end = 0;
            for (int words = 1; words <= LongestRepeatedPrefix; words++)
            {
                int underscore = text.IndexOf('_', end);
                if (underscore <= end || underscore + 1 >= text.Length || text[underscore + 1] == '_') break;
                string prefix = text.Substring(0, underscore + 1);
                if (IsIdentifier(prefix) && StartsWithAt(text, prefix.Length, prefix)) return text.Substring(prefix.Length);
                end = underscore + 1;
            }
            return text;
        }

        private static int FindOpeningBracket(string text, int close)
        {
            int depth = 0;
            for (int i = close; i >= 0; i--)
            {
                if (text[i] == '>') depth++;
                else if (text[i] == '<' && --depth == 0) return i;
            }
            return -1;
        }

        private static int LastIndexOf(string text, string value)
        {
            for (int i = text.Length - value.Length; i >= 0; i--)
            {
                if (StartsWithAt(text, i, value)) return i;
            }
            return -1;
        }

        private static bool StartsWithAt(string text, int index, string value)
        {
            if (index < 0 || index > text.Length - value.Length) return false;
            for (int i = 0; i < value.Length; i++)
            {
                if (text[index + i] != value[i]) return false;
            }
            return true;
        }

        private static bool IsIdentifier(string text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (!IsLetter(c) && !IsDigit(c) && c != '_') return false;
            }
            return true;
        }

        /// <summary>One to maxGroups groups of digits separated by '_' ("0", "1_0").</summary>
        private static bool IsOrdinals(string text, int maxGroups)
        {
            int groups = 1;
            bool digitSeen = false;
            for (int i = 0; i < text.Length; i++)
            {
                if (IsDigit(text[i]))
                {
                    digitSeen = true;
                }
                else if (text[i] == '_' && digitSeen && groups < maxGroups)
                {
                    groups++;
                    digitSeen = false;
                }
                else
                {
                    return false;
                }
            }
            return digitSeen;
        }

        private static bool IsDigits(string text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                if (!IsDigit(text[i])) return false;
            }
            return text.Length > 0;
        }

        private static bool IsLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        private static bool IsDigit(char c) => c >= '0' && c <= '9';
    }
}
