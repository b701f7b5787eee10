// What an environment writes to the console (ConsoleWrite) is marked as its own: every line it
// starts on the console begins with "[<id> <name>] ", written by the kernel. So no environment
// can print a line that reads as the kernel's (a "TEST x PASS" verdict of the protection suite,
// an "aegis: ..." report): a line that starts without that prefix is the kernel's.
// Guarantee: an environment's byte lands at the start of a console line only after its prefix;
// bytes it writes while the console is mid-line continue that line (never at its start).
// Nothing here allocates (the id is written digit by digit, the name from its string).
namespace Aegis.Kernel.Exo
{
    internal static class ConsoleOutput
    {
        /// <summary>"[<id> <name>] " as kernel text, before an environment's line.</summary>
        public static void WritePrefix(Environment environment)
        {
            KernelLog.Write('[');
            ulong id = environment.Id;
            int shift = 60;
            while (shift > 0 && ((id >> shift) & 0xF) == 0) shift -= 4;
            for (; shift >= 0; shift -= 4)
            {
                ulong digit = (id >> shift) & 0xF;
                KernelLog.Write((char)(digit < 10 ? '0' + digit : 'a' + digit - 10));
            }
            KernelLog.Write(' ');
            KernelLog.Write(environment.Name ?? "?");
            KernelLog.Write(']');
            KernelLog.Write(' ');
        }
    }
}
