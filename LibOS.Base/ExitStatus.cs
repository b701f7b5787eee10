// Exit statuses LibOS.Base itself ends an environment with (an app's own come from Main).
namespace Aegis.LibOS
{
    public static class ExitStatus
    {
        public const int Success = 0;
        /// <summary>A throw or a runtime failure (Aegis has no catch yet): reported, then this.</summary>
        public const int UnhandledException = 255;
        /// <summary>The runtime or the libOS could not start (broken image, no memory).</summary>
        public const int StartupFailed = 254;
        private const int UnhandledTrapBase = 128;

        /// <summary>A CPU exception nothing handled: 128 + the vector (as a Unix shell shows signals).</summary>
        public static int UnhandledTrap(ulong trap) => UnhandledTrapBase + (int)(trap & 0x3F);
    }
}
