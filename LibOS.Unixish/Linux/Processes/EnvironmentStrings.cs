// EnvironmentStrings: the personality's own switches read from the environment execve passes
// (NAME=VALUE byte strings, perhaps NUL-terminated): AEGIS_THREADS (LinuxThreads.PolicyFor) and
// AEGIS_SYSCALL_COUNTS (LinuxSystemCalls.CountFor). As getenv, the first NAME= entry decides.
// Pure logic; compiles under the real .NET (Aegis.Tests: EnvironmentStringsTests). Allocates nothing.
namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public static class EnvironmentStrings
    {
        /// <summary>Whether the first entry named name has exactly value (false when none is named so).</summary>
        public static bool ValueIs(System.Collections.Generic.List<byte[]> environment, string name, string value)
        {
            for (int i = 0; i < environment.Count; i++)
            {
                byte[] entry = environment[i];
                if (Names(entry, name)) return ValueEquals(entry, name.Length + 1, value);
            }
            return false;
        }

        /// <summary>Whether entry starts with name and '='.</summary>
        private static bool Names(byte[] entry, string name)
        {
            if (entry.Length < name.Length + 1 || entry[name.Length] != (byte)'=') return false;
            for (int i = 0; i < name.Length; i++) if (entry[i] != name[i]) return false;
            return true;
        }

        private static bool ValueEquals(byte[] entry, int at, string value)
        {
            int length = entry.Length - at;
            if (length > 0 && entry[entry.Length - 1] == 0) length--; // a NUL-terminated copy
            if (length != value.Length) return false;
            for (int i = 0; i < value.Length; i++) if (entry[at + i] != value[i]) return false;
            return true;
        }
    }
}
