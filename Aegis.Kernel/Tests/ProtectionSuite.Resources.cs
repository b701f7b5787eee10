// Protection-suite behaviours for kernel memory and quotas: no environment can exhaust what the kernel needs
// (issue #7). Each behaviour is an attack run as its own app; the kernel judges it from what it
// observed itself. Names here, checks below; ProtectionSuite.cs runs them.
namespace Aegis.Kernel.Tests
{
    internal static unsafe partial class ProtectionSuite
    {
        private static readonly string[] s_resourceBehaviours =
        {
        };

        /// <summary>Runs the check of a behaviour of this area (reason: null for PASS, else why it
        /// failed); false when the name is not one of this area's.</summary>
        private static bool TryDispatchResources(string name, out string reason)
        {
            switch (name)
            {
                default: reason = null; return false;
            }
        }
    }
}
