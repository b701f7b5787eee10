// FakeMappedFrames: an address space for MappingValidator tests, as page -> frame.
using Aegis.Kernel.Core.Exo;

namespace Aegis.Tests.Host.Exo;

internal sealed class FakeMappedFrames : IMappedFrames
{
    private readonly Dictionary<ulong, ulong> _pages = new();

    public int Lookups { get; private set; }

    public void Map(ulong virtualAddress, ulong frame) => _pages[virtualAddress] = frame;

    public bool TryGetMappedFrame(ulong virtualAddress, out ulong frame)
    {
        Lookups++;
        return _pages.TryGetValue(virtualAddress, out frame);
    }
}
