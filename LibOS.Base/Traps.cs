// x86-64 exception vectors as the kernel reports them in UpcallFrame.Trap (exposed names: the
// hardware's own numbers), and the page-fault error code's bits.
namespace Aegis.LibOS
{
    public static class Traps
    {
        public const ulong DivideError = 0;
        public const ulong Debug = 1;
        public const ulong Breakpoint = 3;
        public const ulong Overflow = 4;
        public const ulong BoundRange = 5;
        public const ulong InvalidOpcode = 6;
        public const ulong DeviceNotAvailable = 7;
        public const ulong GeneralProtection = 13;
        public const ulong PageFault = 14;
        public const ulong FloatingPoint = 16;
        public const ulong AlignmentCheck = 17;
        public const ulong SimdFloatingPoint = 19;
        /// <summary>Vectors 0..Count-1 are CPU exceptions.</summary>
        public const int Count = 32;

        public static string Name(ulong trap)
        {
            switch (trap)
            {
                case 0: return "divide error";
                case 1: return "debug";
                case 2: return "non-maskable interrupt";
                case 3: return "breakpoint";
                case 4: return "overflow";
                case 5: return "bound range exceeded";
                case 6: return "invalid opcode";
                case 7: return "device not available";
                case 8: return "double fault";
                case 10: return "invalid TSS";
                case 11: return "segment not present";
                case 12: return "stack fault";
                case 13: return "general protection";
                case 14: return "page fault";
                case 16: return "x87 floating-point";
                case 17: return "alignment check";
                case 18: return "machine check";
                case 19: return "SIMD floating-point";
                case 20: return "virtualization";
                case 21: return "control protection";
                default: return "exception";
            }
        }
    }

    /// <summary>Bits of the page-fault error code (UpcallFrame.ErrorCode when Trap is PageFault).</summary>
    public static class PageFaultBits
    {
        /// <summary>Set: a protection violation on a present page; clear: the page was not present.</summary>
        public const ulong Present = 1UL << 0;
        public const ulong Write = 1UL << 1;
        public const ulong User = 1UL << 2;
        public const ulong ReservedBit = 1UL << 3;
        public const ulong InstructionFetch = 1UL << 4;
    }
}
