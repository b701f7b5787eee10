// What the large-memory fixtures (destroy-huge, revoke-huge) share: take 'count' frames and map
// them all, contiguously, in fresh address space. Compiled into each of them (its .csproj).
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Shared
{
    internal static unsafe class HugeMapping
    {
        /// <summary>Null when every frame is taken and mapped; otherwise why not.</summary>
        public static string TakeAndMap(int count)
        {
            ulong[] frames = new ulong[count];
            ulong region = AddressSpace.Reserve(count);
            if (region == 0)
                return "cannot reserve the address range";
            for (int i = 0; i < count; i++)
            {
                SystemCallResult frame = SystemCalls.FrameAllocate();
                if (frame.IsError)
                    return "cannot take frame " + i.ToString() + ": " + Errors.Name(frame.Error);
                frames[i] = frame.Value;
            }
            fixed (ulong* list = frames)
            {
                Error error = Memory.Map(region, list, count, Memory.ReadWrite);
                if (error != Error.None)
                    return "cannot map the frames: " + Errors.Name(error);
            }
            return null;
        }
    }
}
