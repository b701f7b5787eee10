// finalizer-probe: must NOT build. Aegis.Runtime runs no finalizers, so allocating a type with a
// finalizer (a C# ~T() destructor) is a build error naming the reason (Cosmos.targets; boot-side
// test TypeWithAFinalizerIsABuildError). Not in Aegis.sln and not an ISO app.
using Aegis.LibOS;

namespace Aegis.Probes.Finalizer
{
    internal sealed class HoldsAResource
    {
        public static int Finalized;
        ~HoldsAResource() { Finalized++; }
    }

    internal static class Program
    {
        private static int Main()
        {
            var resource = new HoldsAResource();
            Console.WriteLine("finalizer-probe: built and ran, which it must not");
            return resource.GetHashCode() == 0 ? 1 : 0;
        }
    }
}
