// Start-up of the managed world: walks the ReadyToRun headers that ILC puts in the
// __modules section, allocates the GC static bases (static fields of reference type live in
// heap objects) and runs the eager class constructors.
// Invariant: InitializeModules runs once, before any managed code that touches statics,
// and after the heap has its first region.
using System;
using System.Runtime.CompilerServices;

namespace Internal.Runtime.CompilerHelpers
{
    internal static unsafe class StartupCodeHelpers
    {
        private const uint ReadyToRunSignature = 0x00525452; // "RTR"
        private const int GCStaticRegionSection = 201;
        private const int ThreadStaticRegionSection = 202;
        private const int TypeManagerIndirectionSection = 204;
        private const int EagerCctorSection = 205;
        private const int FrozenObjectRegionSection = 206;
        private const int DehydratedDataSection = 207;
        private const int ModuleInitializerListSection = 213;
        private const nint UninitializedFlag = 1;
        private const nint PreInitializedDataFlag = 2;
        private const nint FlagsMask = 3;

        private struct ReadyToRunHeader
        {
            public uint Signature;
            public ushort MajorVersion;
            public ushort MinorVersion;
            public uint Flags;
            public ushort NumberOfSections;
            public byte EntrySize;
            public byte EntryType;
        }

        private struct ModuleInfoRow
        {
            public int SectionId;
            public int Flags;
            public nint Start;
            public nint End;
        }

        /// <summary>Called by the host with the bounds of the __modules section. Returns null on
        /// success or a description of what is wrong with the image.</summary>
        public static string InitializeModules(nint* modulesStart, nint* modulesEnd)
        {
            for (nint* entry = modulesStart; entry < modulesEnd; entry++)
            {
                if (*entry == 0) continue;
                ReadyToRunHeader* header = (ReadyToRunHeader*)*entry;
                if (header->Signature != ReadyToRunSignature)
                    return "bad ReadyToRun signature in __modules";
                if (header->EntrySize != sizeof(ModuleInfoRow))
                    return "unexpected ReadyToRun section entry size";
                if (header->NumberOfSections > 256)
                    return "implausible ReadyToRun section count";
                if (FindSection(header, DehydratedDataSection, out _) != 0)
                    return "image has dehydrated data; build without --dehydrate";
                nint typeManagerSlot = FindSection(header, TypeManagerIndirectionSection, out _);
                if (typeManagerSlot != 0)
                    *(nint*)typeManagerSlot = (nint)header;
                nint statics = FindSection(header, GCStaticRegionSection, out int length);
                if (statics != 0)
                {
                    InitializeStatics(statics, length);
                    GcCollector.AddStaticRegion(statics, length);
                }
                nint frozen = FindSection(header, FrozenObjectRegionSection, out int frozenLength);
                if (frozen != 0 && frozenLength > 0)
                    GcCollector.AddFrozenRegion(frozen, frozenLength);
                nint threadStatics = FindSection(header, ThreadStaticRegionSection, out int threadStaticsLength);
                if (threadStatics != 0 && threadStaticsLength >= sizeof(nint))
                {
                    string problem = ThreadStatics.RegisterRegion(threadStatics, threadStaticsLength);
                    if (problem != null)
                        return problem;
                }
            }
            for (nint* entry = modulesStart; entry < modulesEnd; entry++)
            {
                if (*entry == 0) continue;
                ReadyToRunHeader* header = (ReadyToRunHeader*)*entry;
                RunInitializers(header, EagerCctorSection);
                RunInitializers(header, ModuleInitializerListSection);
            }
            return null;
        }

        private static nint FindSection(ReadyToRunHeader* header, int sectionId, out int length)
        {
            ModuleInfoRow* rows = (ModuleInfoRow*)(header + 1);
            for (int i = 0; i < header->NumberOfSections; i++)
            {
                if (rows[i].SectionId == sectionId)
                {
                    length = (int)(rows[i].End - rows[i].Start);
                    return rows[i].Start;
                }
            }
            length = 0;
            return 0;
        }

        private static void RunInitializers(ReadyToRunHeader* header, int sectionId)
        {
            nint start = FindSection(header, sectionId, out int length);
            if (start == 0) return;
            delegate*<void>* initializers = (delegate*<void>*)start;
            int count = length / sizeof(nint);
            for (int i = 0; i < count; i++)
                initializers[i]();
        }

        private static byte* FollowRelativePointer(void* location) => (byte*)location + *(int*)location;

        /// <summary>The GC static region is a list of 32-bit self-relative pointers to static base
        /// cells. An uninitialised cell holds a 32-bit self-relative pointer to the MethodTable of
        /// the object that will hold the statics, with flag bits; if HasPreInitializedData is set, the
        /// next 32 bits point at the field values ILC computed. Initialising replaces the whole
        /// 64-bit cell with the object reference.</summary>
        private static void InitializeStatics(nint regionStart, int length)
        {
            for (int offset = 0; offset + sizeof(int) <= length; offset += sizeof(int))
            {
                nint* cell = (nint*)FollowRelativePointer((byte*)regionStart + offset);
                nint value = (nint)FollowRelativePointer(cell);
                if ((value & UninitializedFlag) == 0)
                    continue;
                MethodTable* holderType = (MethodTable*)(value & ~FlagsMask);
                object holder = Heap.AllocateObject(holderType, holderType->BaseSize);
                if ((value & PreInitializedDataFlag) != 0)
                {
                    byte* data = FollowRelativePointer((int*)cell + 1);
                    Buffer.Memmove(ref holder.GetRawData(), ref *data, holder.GetRawObjectDataSize());
                }
                *cell = *(nint*)Unsafe.AsPointer(ref holder);
            }
        }
    }
}
