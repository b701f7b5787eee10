// Composite formatting for string.Format and StringBuilder.AppendFormat, with .NET's syntax:
// "{index[,alignment][:format]}", "{{" and "}}" for literal braces. An argument that is
// IFormattable gets the format (numbers: Number.Formatting.cs), others their ToString() (a format
// given to them is ignored, as in .NET); null prints nothing. Alignment pads with spaces on the
// left (positive) or right (negative). Errors throw FormatException, as .NET does: an unmatched
// brace, a malformed item, or an index outside the arguments.
// Compiled unchanged into the host tests (Aegis.Tests) and compared with .NET's string.Format.
using System.Text;

namespace Internal.Numerics
{
    internal static class CompositeFormatter
    {
        private const int MaxIndex = 1000000, MaxAlignment = 1000000;

        private static System.FormatException Malformed(string format, int position)
            => new System.FormatException("Input string was not in a correct format: '" + format + "' (at position " + position.ToString() + ").");

        public static void AppendFormat(StringBuilder builder, System.IFormatProvider provider, string format, object[] args)
        {
            if (format == null) throw new System.ArgumentNullException(nameof(format));
            if (args == null) throw new System.ArgumentNullException(nameof(args));
            int i = 0, length = format.Length;
            while (i < length)
            {
                char c = format[i];
                if (c == '}')
                {
                    if (i + 1 < length && format[i + 1] == '}') { builder.Append('}'); i += 2; continue; }
                    throw Malformed(format, i);
                }
                if (c != '{') { builder.Append(c); i++; continue; }
                if (i + 1 < length && format[i + 1] == '{') { builder.Append('{'); i += 2; continue; }

                // An item: {index[,alignment][:format]}
                int start = i;
                i++;
                if (i >= length || format[i] < '0' || format[i] > '9') throw Malformed(format, start);
                int index = 0;
                while (i < length && format[i] >= '0' && format[i] <= '9')
                {
                    index = index * 10 + (format[i] - '0');
                    if (index >= MaxIndex) throw Malformed(format, start);
                    i++;
                }
                while (i < length && format[i] == ' ') i++;
                int alignment = 0;
                if (i < length && format[i] == ',')
                {
                    i++;
                    while (i < length && format[i] == ' ') i++;
                    bool negative = false;
                    if (i < length && format[i] == '-') { negative = true; i++; }
                    if (i >= length || format[i] < '0' || format[i] > '9') throw Malformed(format, start);
                    while (i < length && format[i] >= '0' && format[i] <= '9')
                    {
                        alignment = alignment * 10 + (format[i] - '0');
                        if (alignment >= MaxAlignment) throw Malformed(format, start);
                        i++;
                    }
                    if (negative) alignment = -alignment;
                    while (i < length && format[i] == ' ') i++;
                }
                string itemFormat = null;
                if (i < length && format[i] == ':')
                {
                    i++;
                    int formatStart = i;
                    while (i < length && format[i] != '}')
                    {
                        if (format[i] == '{') throw Malformed(format, start);
                        i++;
                    }
                    itemFormat = format.Substring(formatStart, i - formatStart);
                }
                if (i >= length || format[i] != '}') throw Malformed(format, start);
                i++;
                if (index >= args.Length)
                    throw new System.FormatException("Index (zero based) must be greater than or equal to zero and less than the size of the argument list.");

                object argument = args[index];
                string text;
                if (argument is System.IFormattable formattable) text = formattable.ToString(itemFormat, provider);
                else text = argument?.ToString() ?? "";
                text ??= "";
                int padding = (alignment < 0 ? -alignment : alignment) - text.Length;
                if (alignment > 0 && padding > 0) builder.Append(' ', padding);
                builder.Append(text);
                if (alignment < 0 && padding > 0) builder.Append(' ', padding);
            }
        }

        public static string Format(System.IFormatProvider provider, string format, object[] args)
        {
            var builder = new StringBuilder(format == null ? 16 : format.Length + 16 * (args?.Length ?? 0));
            AppendFormat(builder, provider, format, args);
            return builder.ToString();
        }
    }
}
