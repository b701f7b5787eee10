// What the Linux personality tells the person at the console about the program's calls it does
// not serve (-ENOSYS, once per number) and about its own failures. One line each, prefixed
// "linux:", on the environment's console.

namespace Aegis.LibOS.Unixish.Linux
{
    public static class LinuxLog
    {
        /// <summary>A system call without a handler: "linux: <name> (<number>) is not implemented: -ENOSYS".</summary>
        public static void Missing(ulong number)
        {
            Console.WriteLine("linux: " + LinuxSystemCallNames.Of(number) + " (" + number.ToString()
                + ") is not implemented: -ENOSYS");
        }

        public static void Line(string text) => Console.WriteLine("linux: " + text);
    }
}
