// Text without allocation, for every path an environment can drive and for the panic path:
// TextBuffer is a fixed char buffer filled piece by piece (what does not fit is dropped), and
// LogText writes numbers straight to the kernel log. Neither allocates after construction
// (ToString, for the protection suite's reading, is the one exception and says so).
namespace Aegis.Kernel.Diagnostics
{
    public sealed class TextBuffer
    {
        private readonly char[] _chars;
        private int _length;

        public TextBuffer(int capacity) { _chars = new char[capacity]; }

        public int Length => _length;

        public void Clear() => _length = 0;

        public void Append(char c)
        {
            if (_length < _chars.Length)
                _chars[_length++] = c;
        }

        public void Append(string text)
        {
            if (text == null) return;
            for (int i = 0; i < text.Length; i++)
                Append(text[i]);
        }

        public void Append(TextBuffer other)
        {
            if (other == null) return;
            for (int i = 0; i < other._length; i++)
                Append(other._chars[i]);
        }

        /// <summary>Lower-case hexadecimal without leading zeros ("0" for 0).</summary>
        public void AppendHex(ulong value)
        {
            int shift = 60;
            while (shift > 0 && ((value >> shift) & 0xF) == 0) shift -= 4;
            for (; shift >= 0; shift -= 4)
                Append(LogText.HexDigit((int)((value >> shift) & 0xF)));
        }

        public void AppendDecimal(ulong value)
        {
            ulong divisor = 1;
            while (value / divisor >= 10) divisor *= 10;
            for (; divisor > 0; divisor /= 10)
                Append((char)('0' + (int)(value / divisor % 10)));
        }

        /// <summary>Writes the text to the kernel log (no newline).</summary>
        public void WriteToLog()
        {
            for (int i = 0; i < _length; i++)
                KernelLog.Write(_chars[i]);
        }

        /// <summary>The text as a new string: allocates (the protection suite reads reports this way;
        /// never on a path an environment drives).</summary>
        public override string ToString() => new string(_chars, 0, _length);
    }

    /// <summary>Scratch buffers for reports on cold paths. They live here, not in the classes that
    /// use them: a static field initializer gives a class a static constructor, and every static
    /// access on its hot paths (the scheduler's, IPC's) would then pay a check for it.</summary>
    internal static class ReportBuffers
    {
        /// <summary>Why an environment is being destroyed (one report at a time).</summary>
        public static readonly TextBuffer Death = new TextBuffer(256);

        /// <summary>Runs the class constructor at boot (Environments.Initialize), so its allocation
        /// never happens on a path an environment drives (the first fault that destroys one).</summary>
        public static void Initialize() => Death.Clear();
    }

    /// <summary>Numbers written straight to the kernel log, digit by digit.</summary>
    public static class LogText
    {
        internal static char HexDigit(int digit) => (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);

        /// <summary>'digits' hexadecimal digits (16 for a full word), leading zeros kept.</summary>
        public static void WriteHex(ulong value, int digits = 16)
        {
            for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
                KernelLog.Write(HexDigit((int)((value >> shift) & 0xF)));
        }

        /// <summary>Hexadecimal without leading zeros.</summary>
        public static void WriteHexShort(ulong value)
        {
            int digits = 1;
            while (digits < 16 && (value >> (digits * 4)) != 0) digits++;
            WriteHex(value, digits);
        }

        public static void WriteDecimal(ulong value)
        {
            ulong divisor = 1;
            while (value / divisor >= 10) divisor *= 10;
            for (; divisor > 0; divisor /= 10)
                KernelLog.Write((char)('0' + (int)(value / divisor % 10)));
        }

        /// <summary>"environment ID (NAME)", as Environment.Describe() would say it.</summary>
        internal static void WriteEnvironment(Exo.Environment environment)
        {
            KernelLog.Write("environment ");
            WriteHexShort(environment.Id);
            KernelLog.Write(" (");
            KernelLog.Write(environment.Name ?? "?");
            KernelLog.Write(")");
        }
    }
}
