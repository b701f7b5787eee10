// Environments, capabilities and the information pages.
using System.Runtime.InteropServices;

namespace Aegis.Abi
{
    public enum EnvironmentState : ulong
    {
        Free = 0,
        /// <summary>Created, not started.</summary>
        Stopped = 1,
        Runnable = 2,
        Running = 3,
        /// <summary>Blocked in Wait or in an IpcCall awaiting the reply.</summary>
        Blocked = 4,
        /// <summary>Ended by Exit (status in RDX of EnvironmentStatus).</summary>
        Exited = 5,
        /// <summary>Destroyed by the kernel or by a capability holder (DestroyReason in RDX).</summary>
        Destroyed = 6,
    }

    public enum DestroyReason : ulong
    {
        None = 0,
        /// <summary>A holder of its capability destroyed it.</summary>
        ByCapability = 1,
        /// <summary>A CPU exception with no upcall entry registered.</summary>
        UnhandledException = 2,
        /// <summary>The upcall entry or stack was not valid user memory, or delivering the frame faulted.</summary>
        BadUpcall = 3,
        /// <summary>Its image could not be loaded.</summary>
        BadImage = 4,
        /// <summary>An ancestor (its parent, or the parent's parent, ...) ended: an environment
        /// never outlives the environment that created it.</summary>
        AncestorEnded = 5,
    }

    public enum CapabilityKind : ulong
    {
        None = 0,
        /// <summary>Control of an environment (create/start/destroy/map into it).</summary>
        Environment = 1,
        /// <summary>Writing to the console.</summary>
        Console = 2,
        // ---- devices (issue #9, kdev): the kernel multiplexes them, the libOS decides what they mean.
        /// <summary>Reading an input device's bytes and being woken by them (InputRead, InputWatch);
        /// the object is an InputDevice.</summary>
        Input = 3,
        /// <summary>Mapping the VGA text buffer (DeviceMap); the object is 0.</summary>
        Display = 4,
        /// <summary>A disk (issue #11): BlockInfo, ExtentOpen, ExtentAllocate; the object is the
        /// disk's number (0: the first).</summary>
        Disk = 5,
        /// <summary>One extent of a disk: BlockSubmit, BlockInfo, ExtentFree, ExtentRestrict; the
        /// object is packed as ExtentCapability says.</summary>
        Extent = 6,
        /// <summary>A network controller (issue #12): NicInfo, NicAttach, NicFilterInstall,
        /// NicFilterRemove, NicSend, NicRestrict; the object is packed as NicCapability says.</summary>
        Nic = 7,
    }

    /// <summary>The object of an Input capability: which device's bytes it reads.</summary>
    public enum InputDevice : ulong
    {
        None = 0,
        /// <summary>The PS/2 keyboard (i8042 port 1, IRQ 1): raw scan-code set 1 bytes, make and
        /// break codes and 0xE0 prefixes as the controller delivers them.</summary>
        Keyboard = 1,
        /// <summary>COM1 (16550, IRQ 4): the bytes received on the serial line.</summary>
        Serial = 2,
    }

    /// <summary>Input devices: the kernel's buffer per device.</summary>
    public static class InputLimits
    {
        /// <summary>Bytes the kernel holds per device until InputRead takes them; bytes arriving
        /// when it is full are dropped (and counted).</summary>
        public const int RingBytes = 256;
        /// <summary>Environments one device wakes when bytes arrive (InputWatch): every one of them
        /// is woken; a ninth InputWatch drops the watcher that asked longest ago.</summary>
        public const int WatchersPerDevice = 8;
        /// <summary>Pages of the VGA text buffer DeviceMap maps (physical 0xB8000..0xBFFFF).</summary>
        public const int DisplayPages = 8;
        /// <summary>The VGA text buffer's first frame number (physical 0xB8000).</summary>
        public const ulong DisplayFirstFrame = 0xB8;
    }

    /// <summary>Fixed capability slots.</summary>
    public static class CapabilitySlots
    {
        /// <summary>Refers to the calling environment itself wherever an envSlot is taken.</summary>
        public const ulong Self = 0;
        /// <summary>Where the first environment finds its Console capability.</summary>
        public const ulong Console = 1;
        // ---- devices (issue #9, kdev): where the first environment finds them (CapabilityCopy puts
        // a copy in the same slot of the target when that slot is empty).
        /// <summary>The Input capability over InputDevice.Keyboard.</summary>
        public const ulong Keyboard = 2;
        /// <summary>The Input capability over InputDevice.Serial.</summary>
        public const ulong Serial = 3;
        /// <summary>The Display capability.</summary>
        public const ulong Display = 4;
        /// <summary>The Disk capability over the first disk (when the machine has one).</summary>
        public const ulong Disk = 5;
        /// <summary>The first network controller's unrestricted Nic capability (init's, when there is one).</summary>
        public const ulong Nic = 6;
        public const int Count = 64;
    }

    /// <summary>The global information page at UserAddresses.InfoPage (read-only, shared).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct InfoPage
    {
        public ulong Magic;              // InfoPageMagic
        public ulong Ticks;              // timer ticks since boot (1 ms each)
        public ulong TimestampHz;        // TSC frequency
        public ulong FreeFrames;
        public ulong TotalFrames;
        public ulong CurrentSlice;       // index into SliceOwners of the running slice
        public ulong SliceCount;
        public fixed ulong SliceOwners[64]; // environment id owning each slice (0 = free)
        public ulong CpuFeatures;        // CpuFeatureBits: what ring 3 may use (set once at boot)
        // ---- wall time (issue #9, kdev): the CMOS RTC read once at boot. Now, in nanoseconds since
        // 1970-01-01 00:00 UTC: BootUnixNanoseconds + (rdtsc - BootTimestamp) * 10^9 / TimestampHz.
        public ulong BootUnixNanoseconds; // the RTC's time at boot (UTC assumed), 0 if it could not be read
        public ulong BootTimestamp;      // the TSC when the RTC was read
        // ---- idle time (issue #9): TSC ticks the CPU spent halted in the kernel's idle loop since
        // boot (nothing could run), as /proc/uptime's second field and top's idle show it.
        public ulong IdleTimestampTicks;
        // ---- address-space switches (issue #12): CR3 loads since the environments began, the
        // switches between two environments' page tables and the kernel's reloads that flush the
        // TLB. Each one empties the TLB (and QEMU's TCG empties its software TLB on every load).
        public ulong AddressSpaceLoads;
        // ---- input (issue #12): per device (index InputDevice; 0 unused), the bytes its ring took
        // since boot and the environment id of its latest watcher (the last InputWatch's caller
        // still watching; 0: none), so a libOS can tell without a call that nothing came (no
        // InputPeek) and that it watches already (no InputWatch).
        public fixed ulong InputArrivals[4];
        public fixed ulong InputWatchers[4];
        // ---- ends (issue #12): environments that ended since boot (any way: Exit, a crash, a
        // destroy, an ancestor's end), and the ids of the latest RecentEndsKept of them: the n-th
        // end (counting from 1) is RecentEnds[(n - 1) % RecentEndsKept], written before the count
        // grows. A server compares the count with its last reading and looks at the new ids; when
        // more ended than are kept (or while it read), it asks EnvironmentAlive about its clients.
        public ulong EnvironmentEnds;
        public fixed ulong RecentEnds[16];

        public const int RecentEndsKept = 16;

        public const ulong InfoPageMagic = 0x4145474953494E46; // "AEGISINF"
    }

    /// <summary>InfoPage.CpuFeatures: CPU features the kernel turned on for ring 3.</summary>
    public static class CpuFeatureBits
    {
        /// <summary>CR4.FSGSBASE is on: ring 3 may use rdfsbase, wrfsbase, rdgsbase and wrgsbase. The
        /// kernel keeps each environment's FS and GS base (the live values) across switches.</summary>
        public const ulong FsGsBase = 1;
    }

    /// <summary>The environment's own page at UserAddresses.EnvironmentPage (read-only).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct EnvironmentPage
    {
        public ulong Id;
        public ulong ParentId;
        public ulong FramesOwned;
        public ulong RevocationPending;  // frames still asked for
        public ulong RevocationDeadline; // tick
        public ulong RepossessedCount;   // frames taken by the abort protocol (total)
        public ulong PreemptedCount;     // slices that ended by force (abort protocol for the CPU)
        public fixed ulong Repossessed[64]; // the most recent repossessed frame numbers (ring)
        public ulong ArgumentLength;
        public fixed byte Argument[256]; // the argument string given at spawn (test name etc.)
        // ---- network (issue #12): this environment's frames
        public ulong NetDelivered;       // frames its filters claimed that reached its receive ring
        public ulong NetDropped;         // frames its filters claimed that were dropped (ring full or none attached)
        public ulong NetSent;            // frames the device finished sending for it
    }
}
