// IMappedFrames: what MappingValidator needs to know about the address space a PageMap call
// edits: which frame, if any, a page maps now. The kernel answers from the environment's page
// tables (a PageTableBuilder walk); host tests answer from a dictionary.
namespace Aegis.Kernel.Core.Exo
{
    public interface IMappedFrames
    {
        /// <summary>The frame number mapped at the page starting at virtualAddress; false when the
        /// page is not mapped.</summary>
        bool TryGetMappedFrame(ulong virtualAddress, out ulong frame);
    }
}
