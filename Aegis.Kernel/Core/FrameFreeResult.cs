// FrameFreeResult: what FrameAllocator.Free did with a frame.
namespace Aegis.Kernel.Core
{
    public enum FrameFreeResult
    {
        /// <summary>The frame was allocated and is free again.</summary>
        Ok,
        /// <summary>The frame was already free: nothing changed.</summary>
        DoubleFree,
        /// <summary>The frame was never added as usable memory (or lies past the limit): nothing changed.</summary>
        NeverUsable,
    }
}
