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
                    InitializeStatics(statics, length);
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
            // Entries are 32-bit relative pointers (ILC uses relative pointers on x64).
            for (int offset = 0; offset + sizeof(int) <= length; offset += sizeof(int))
            {
                delegate*<void> initializer = (delegate*<void>)ReadRelativePointer((byte*)start + offset);
                initializer();
            }
        }

        private static byte* ReadRelativePointer(byte* address) => address + *(int*)address;

        private static void InitializeStatics(nint regionStart, int length)
        {
            // The region holds 32-bit relative pointers to each type's static base slot; the slot
            // holds the holder type's MethodTable | flags until it is replaced by the holder object.
            for (int offset = 0; offset + sizeof(int) <= length; offset += sizeof(int))
            {
                nint* staticBase = (nint*)ReadRelativePointer((byte*)regionStart + offset);
                // Until initialised, the slot's low 32 bits are a relative pointer to the holder
                // type's MethodTable with the flags in its low bits, and the next 32 bits a relative
                // pointer to the preinitialised field values (when that flag is set).
                int encoded = *(int*)staticBase;
                if ((encoded & UninitializedFlag) == 0)
                    continue;
                MethodTable* holderType = (MethodTable*)((byte*)staticBase + (encoded & ~(int)FlagsMask));
                object holder = Heap.AllocateObject(holderType, holderType->BaseSize);
                if ((encoded & PreInitializedDataFlag) != 0)
                {
                    byte* data = ReadRelativePointer((byte*)staticBase + sizeof(int));
                    Buffer.Memmove(ref holder.GetRawData(), ref *data, holder.GetRawObjectDataSize());
                }
                *staticBase = *(nint*)Unsafe.AsPointer(ref holder);
            }
        }
    }
}
