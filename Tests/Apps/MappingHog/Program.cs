// mapping-hog: maps frames again and again (each as often as the kernel allows one frame, 512
// pages a PageMap call), at fresh addresses, until the kernel refuses; then it stays alive holding every mapping it got (it
// yields until it is destroyed). Each mapping costs the kernel a record in its reverse map
// (FrameLedger), so the kernel judges: the hog was refused within its account's quota of
// mappings, records are left for everyone else, and other environments can still be created
// and run (their images need mappings too) while the hog holds everything it got.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.MappingHog
{
    internal static unsafe class Program
    {
        private const int Batch = SystemCallLimits.MaximumMapRequests;
        /// <summary>Far above the heap and the image: 2^40 bytes of room.</summary>
        private const ulong FirstAddress = 0x0000_1000_0000_0000;

        private static int Main()
        {
            PageMapRequest* requests = stackalloc PageMapRequest[Batch];
            ulong address = FirstAddress;
            ulong mapped = 0;
            Error refused = Error.None;
            Console.WriteLine("mapping-hog: mapping frames everywhere");
            while (refused == Error.None)
            {
                // A frame may be mapped FrameLedger.MaximumMappingsPerFrame (1,024) times: two
                // batches a frame, then the next frame, until the kernel refuses a batch.
                SystemCallResult frame = SystemCalls.FrameAllocate();
                if (frame.IsError) { refused = frame.Error; break; }
                for (int round = 0; round < 2 && refused == Error.None; round++)
                {
                    for (int i = 0; i < Batch; i++)
                    {
                        requests[i].VirtualAddress = address + (ulong)i * 4096;
                        requests[i].Frame = frame.Value;
                        requests[i].Permissions = Memory.ReadOnly;
                        requests[i].Operation = PageMapOperation.Map;
                        requests[i].Reserved = 0;
                    }
                    SystemCallResult result = SystemCalls.PageMap(CapabilitySlots.Self, requests, Batch);
                    if (result.IsError) refused = result.Error;
                    else
                    {
                        mapped += Batch;
                        address += Batch * 4096UL;
                    }
                }
            }
            Console.WriteLine("mapping-hog: refused (" + Errors.Name(refused) + ") after " + mapped.ToString() + " mappings");
            while (true)
                SystemCalls.Yield();
        }

        private static int Fail(string why)
        {
            Console.WriteLine("mapping-hog: " + why);
            return 1;
        }
    }
}
