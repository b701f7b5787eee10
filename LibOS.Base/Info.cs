// The information the kernel exposes to every environment (exokernel principle: expose
// information), read straight from the read-only pages at fixed addresses: the global
// InfoPage (clock, free frames, the slice vector) and the environment's own EnvironmentPage
// (its id, its argument, revocation state and the repossession vector), and the PCI table (the
// devices the kernel found at boot). Reading costs no
// system call. Also the image's own name, fixed at build time.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;

namespace Aegis.LibOS
{
    public static unsafe class Info
    {
        public static InfoPage* GlobalPage => (InfoPage*)UserAddresses.InfoPage;
        public static EnvironmentPage* OwnPage => (EnvironmentPage*)UserAddresses.EnvironmentPage;
        /// <summary>The PCI table: what the kernel found on the PCI buses at boot (read-only).</summary>
        public static PciTable* Pci => (PciTable*)UserAddresses.PciTable;

        /// <summary>Record 'index' (0..Pci->Count-1) of the PCI table.</summary>
        public static PciFunction* PciRecord(int index)
            => (PciFunction*)(UserAddresses.PciTable + PciLimits.RecordsOffset + (ulong)index * PciLimits.RecordSize);

        // A record's BAR slots (fixed buffers, readable only where Aegis.Abi is compiled in).
        public static byte PciBarFlagsOf(PciFunction* function, int slot) => function->BarFlags[slot];
        public static ulong PciBarBaseOf(PciFunction* function, int slot) => function->BarBase[slot];
        public static ulong PciBarSizeOf(PciFunction* function, int slot) => function->BarSize[slot];

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_symbol_image_name")]
        private static extern sbyte* ImageNameBytes();

        /// <summary>The app's image name (AegisImageName, the name of its boot module). Touches no
        /// static field, so start-up failures can print it before the statics exist.</summary>
        public static string ImageName
        {
            get
            {
                sbyte* bytes = ImageNameBytes();
                int length = 0;
                while (bytes[length] != 0) length++;
                return new string(bytes, 0, length);
            }
        }

        // The environment's own page.
        public static ulong EnvironmentId => OwnPage->Id;
        /// <summary>The id as the kernel prints it in its reports (lower-case hex, no prefix).</summary>
        public static string EnvironmentIdText => OwnPage->Id.ToString("x");
        public static ulong ParentId => OwnPage->ParentId;
        public static ulong FramesOwned => OwnPage->FramesOwned;
        public static ulong RevocationPending => OwnPage->RevocationPending;
        public static ulong RevocationDeadline => OwnPage->RevocationDeadline;
        public static ulong RepossessedCount => OwnPage->RepossessedCount;
        public static ulong PreemptedCount => OwnPage->PreemptedCount;

        /// <summary>The argument string given at spawn ("" if none).</summary>
        public static string Argument
        {
            get
            {
                EnvironmentPage* page = OwnPage;
                ulong length = page->ArgumentLength;
                if (length > 256) length = 256;
                return new string((sbyte*)page->Argument, 0, (int)length);
            }
        }

        /// <summary>The frames the abort protocol took most recently, oldest first (at most the 64
        /// the repossession ring holds).</summary>
        public static ulong[] RepossessedFrames()
        {
            EnvironmentPage* page = OwnPage;
            ulong total = page->RepossessedCount;
            int count = total < 64 ? (int)total : 64;
            ulong[] frames = new ulong[count];
            for (int i = 0; i < count; i++)
                frames[i] = page->Repossessed[(int)((total - (ulong)count + (ulong)i) % 64)];
            return frames;
        }

        // The global page.
        public static bool IsGlobalPageValid => GlobalPage->Magic == InfoPage.InfoPageMagic;
        /// <summary>Timer ticks (1 ms each) since boot.</summary>
        public static ulong Ticks => GlobalPage->Ticks;
        public static ulong TimestampHz => GlobalPage->TimestampHz;
        public static ulong FreeFrames => GlobalPage->FreeFrames;
        public static ulong TotalFrames => GlobalPage->TotalFrames;
        public static ulong CurrentSlice => GlobalPage->CurrentSlice;
        public static ulong SliceCount => GlobalPage->SliceCount;

        /// <summary>The environment owning slice 'index' (0: free).</summary>
        public static ulong SliceOwner(int index)
        {
            if ((uint)index >= 64)
                throw new System.ArgumentOutOfRangeException(nameof(index));
            return GlobalPage->SliceOwners[index];
        }

        /// <summary>InfoPage.InputArrivals: the bytes the device's ring took since boot (0 for a value that names no device).</summary>
        public static ulong InputArrivals(InputDevice device) => (ulong)device < 4 ? GlobalPage->InputArrivals[(int)device] : 0;

        /// <summary>InfoPage.InputWatchers: the device's watcher (0: none).</summary>
        public static ulong InputWatcher(InputDevice device) => (ulong)device < 4 ? GlobalPage->InputWatchers[(int)device] : 0;

        /// <summary>InfoPage.EnvironmentEnds: environments that ended since boot (compare with a last reading).</summary>
        public static ulong EnvironmentEnds => GlobalPage->EnvironmentEnds;

        /// <summary>InfoPage.RecentEnds: the id of the n-th end since boot (n from 0), valid while
        /// EnvironmentEnds - n is at most InfoPage.RecentEndsKept.</summary>
        public static ulong RecentEnd(ulong n) => GlobalPage->RecentEnds[(int)(n % InfoPage.RecentEndsKept)];
    }
}
