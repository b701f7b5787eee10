// The kernel calls the terminal uses beyond LibOS.Base's wrappers: reading the keyboard's and
// the serial line's input rings, asking to be woken when they fill, and mapping the VGA text
// buffer. Thin wrappers; the contract is docs/abi.md (issue #9 plan, section 2).
//
// The numbers and kinds are Aegis.Abi's (docs/abi.md, "Input devices"). A kernel without the
// calls answers NoSuchCall: the terminal then has no input (reads see end of input) and no VGA
// console of its own (the kernel's ConsoleWrite keeps drawing it).
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    internal static unsafe class InputDevices
    {
        public const ulong InputReadCall = (ulong)SystemCall.InputRead;
        public const ulong InputWatchCall = (ulong)SystemCall.InputWatch;
        public const ulong InputPeekCall = (ulong)SystemCall.InputPeek;
        public const ulong DeviceMapCall = (ulong)SystemCall.DeviceMap;
        public const ulong UpcallKindInput = (ulong)UpcallKind.Input;
        public const ulong CapabilityKindInput = (ulong)CapabilityKind.Input;
        public const ulong CapabilityKindDisplay = (ulong)CapabilityKind.Display;
        public const ulong DeviceKeyboard = (ulong)InputDevice.Keyboard;
        public const ulong DeviceSerial = (ulong)InputDevice.Serial;
        /// <summary>No capability found.</summary>
        public const ulong NoSlot = ulong.MaxValue;
        /// <summary>Pages DeviceMap maps (the VGA text buffer, 0xB8000..0xBFFFF).</summary>
        public const int DisplayPages = InputLimits.DisplayPages;

        /// <summary>Copies what the device's ring holds (at most length bytes): the count, or a
        /// negative Aegis Error.</summary>
        public static long Read(ulong slot, byte* buffer, int length)
            => SystemCalls.Invoke(InputReadCall, slot, (ulong)buffer, (ulong)length).Raw;

        /// <summary>As Read, but the bytes stay in the ring (the next reader sees them).</summary>
        public static long Peek(ulong slot, byte* buffer, int length)
            => SystemCalls.Invoke(InputPeekCall, slot, (ulong)buffer, (ulong)length).Raw;

        /// <summary>Makes the caller the device's watcher (woken from Wait when bytes arrive).</summary>
        public static bool Watch(ulong slot, bool enable)
            => !SystemCalls.Invoke(InputWatchCall, slot, enable ? 1UL : 0UL).IsError;

        /// <summary>Maps the VGA text buffer writable at virtualAddress (DisplayPages pages).</summary>
        public static bool MapDisplay(ulong slot, ulong virtualAddress)
            => !SystemCalls.Invoke(DeviceMapCall, slot, virtualAddress).IsError;

        /// <summary>Finds the caller's keyboard, serial and display capabilities by asking the
        /// kernel about every slot (they are in slots 2, 3 and 4 of the first environment; a child
        /// may hold copies elsewhere).</summary>
        public static void Find(out ulong keyboard, out ulong serial, out ulong display)
        {
            keyboard = NoSlot;
            serial = NoSlot;
            display = NoSlot;
            for (ulong slot = 1; slot < CapabilitySlots.Count; slot++)
            {
                SystemCallResult r = SystemCalls.CapabilityQuery(slot);
                if (r.IsError) continue;
                if (r.Value == CapabilityKindInput)
                {
                    if (r.Second == DeviceKeyboard && keyboard == NoSlot) keyboard = slot;
                    else if (r.Second == DeviceSerial && serial == NoSlot) serial = slot;
                }
                else if (r.Value == CapabilityKindDisplay && display == NoSlot)
                {
                    display = slot;
                }
            }
        }
    }
}
