// Host tests of the exception-handling parsers (Aegis.Runtime/Internal/Runtime/ExceptionHandling):
// constructed bytes for every CFA opcode and encoding the interpreter handles, the VarInt and
// clause formats, the divide-error decoder; and the real kernel image: every FDE is found by the
// binary search, every LSDA is a method block, the clauses of known test methods are what the
// C# source says (including the marker clause between two try blocks over the same code), and a
// real prologue unwinds.
using System.Runtime.InteropServices;
using System.Text;
using Internal.Runtime.ExceptionHandling;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class EhParserTests
{
    // ---------------- constructed bytes ----------------

    /// <summary>Pins bytes in unmanaged memory for the lifetime of a test.</summary>
    private sealed class Native : IDisposable
    {
        public readonly byte* Start;
        public Native(byte[] bytes)
        {
            Start = (byte*)NativeMemory.AllocZeroed((nuint)bytes.Length + 16);
            bytes.CopyTo(new Span<byte>(Start, bytes.Length));
        }
        public void Dispose() => NativeMemory.Free(Start);
    }

    private static byte[] Cie(params byte[] instructions)
    {
        // version 1, "zR", code align 1, data align -8, RA column 16, aug data { R = udata8 absolute }
        var body = new List<byte> { 0, 0, 0, 0, 1, (byte)'z', (byte)'R', 0, 1, 0x78, 16, 1, 0x04 };
        body.AddRange(instructions);
        while ((body.Count + 4) % 8 != 0) body.Add(0);
        return Prefix(body);
    }

    private static byte[] Fde(int cieDistance, ulong start, ulong length, params byte[] instructions)
    {
        var body = new List<byte>();
        body.AddRange(BitConverter.GetBytes((uint)cieDistance));
        body.AddRange(BitConverter.GetBytes(start));
        body.AddRange(BitConverter.GetBytes(length));
        body.Add(0); // augmentation data length
        body.AddRange(instructions);
        while ((body.Count + 4) % 8 != 0) body.Add(0);
        return Prefix(body);
    }

    private static byte[] Prefix(List<byte> body)
    {
        var all = new List<byte>(BitConverter.GetBytes((uint)body.Count));
        all.AddRange(body);
        return all.ToArray();
    }

    /// <summary>A CIE (def_cfa rsp+8, return address at cfa-8) followed by one FDE over
    /// [0x1000, 0x1100) with 'instructions'; unwinds at pc over a fake stack.</summary>
    private static string UnwindSynthetic(byte[] instructions, ulong pc, ref RegisterSet regs)
    {
        byte[] cie = Cie(0x0C, 7, 8, 0x90, 1);
        byte[] fde = Fde(cie.Length + 4, 0x1000, 0x100, instructions);
        using var image = new Native(cie.Concat(fde).ToArray());
        string error = CallFrameInfo.ParseCommonEntry(image.Start, out CommonEntry common);
        Assert.That(error, Is.Null);
        error = CallFrameInfo.ParseFrameEntry(image.Start + cie.Length, common, out FrameEntry frame);
        Assert.That(error, Is.Null);
        Assert.That(frame.Start, Is.EqualTo(0x1000));
        Assert.That(frame.End, Is.EqualTo(0x1100));
        return CallFrameInfo.Unwind(common, frame, pc, ref regs);
    }

    private static RegisterSet StackAt(ulong* stack) => new RegisterSet { Rsp = (ulong)stack, Rbx = 0xB0, Rbp = 0xBB, R12 = 0x12, R13 = 0x13, R14 = 0x14, R15 = 0x15 };

    // advance_loc1 16; def_cfa_offset 16; offset rbp cfa-16; remember_state; advance_loc2 0x20;
    // def_cfa_register rbp; offset_extended_sf r12 cfa-24; advance_loc4 0x40; restore_state.
    private static readonly byte[] Program =
    {
        0x02, 0x10, 0x0E, 16, 0x86, 2, 0x0A, 0x03, 0x20, 0x00, 0x0D, 6, 0x11, 12, 3, 0x04, 0x40, 0, 0, 0, 0x0B,
    };

    [Test]
    public void BeforeTheFirstAdvanceTheCieRuleHolds()
    {
        ulong* stack = stackalloc ulong[8];
        stack[0] = 0xAAAA;
        RegisterSet regs = StackAt(stack);
        Assert.That(UnwindSynthetic(Program, 0x1005, ref regs), Is.Null);
        Assert.That(regs.Rip, Is.EqualTo(0xAAAA));
        Assert.That(regs.Rsp, Is.EqualTo((ulong)(stack + 1)));
        Assert.That(regs.Rbp, Is.EqualTo(0xBB), "not saved yet");
    }

    [Test]
    public void AdvanceLoc1DefCfaOffsetAndOffsetApply()
    {
        ulong* stack = stackalloc ulong[8];
        stack[0] = 0x5A5A; stack[1] = 0xCAFE;
        RegisterSet regs = StackAt(stack);
        Assert.That(UnwindSynthetic(Program, 0x1010, ref regs), Is.Null);
        Assert.That(regs.Rbp, Is.EqualTo(0x5A5A));
        Assert.That(regs.Rip, Is.EqualTo(0xCAFE));
        Assert.That(regs.Rsp, Is.EqualTo((ulong)(stack + 2)));
    }

    [Test]
    public void CfaRegisterRbpAndSignedFactoredOffsets()
    {
        ulong* frame = stackalloc ulong[8];
        // rbp points at the saved rbp: cfa = rbp + 16; r12 at cfa-24, rbp at cfa-16, return at cfa-8.
        frame[0] = 0x1212; frame[1] = 0x0BBB; frame[2] = 0xFEED;
        RegisterSet regs = new RegisterSet { Rsp = 0x10, Rbp = (ulong)(frame + 1), R12 = 0x99 };
        Assert.That(UnwindSynthetic(Program, 0x1040, ref regs), Is.Null);
        Assert.That(regs.R12, Is.EqualTo(0x1212));
        Assert.That(regs.Rbp, Is.EqualTo(0x0BBB));
        Assert.That(regs.Rip, Is.EqualTo(0xFEED));
        Assert.That(regs.Rsp, Is.EqualTo((ulong)(frame + 3)));
    }

    [Test]
    public void RestoreStateBringsBackTheRememberedRowIncludingTheCfaRule()
    {
        ulong* stack = stackalloc ulong[8];
        stack[0] = 0x7777; stack[1] = 0xBEEF;
        RegisterSet regs = StackAt(stack);
        Assert.That(UnwindSynthetic(Program, 0x1080, ref regs), Is.Null);
        Assert.That(regs.Rip, Is.EqualTo(0xBEEF));
        Assert.That(regs.Rbp, Is.EqualTo(0x7777));
        Assert.That(regs.R12, Is.EqualTo(0x12), "the r12 rule came after remember_state");
        Assert.That(regs.Rsp, Is.EqualTo((ulong)(stack + 2)));
    }

    [Test]
    public void RegisterValOffsetRestoreAndDefCfaSf()
    {
        ulong* stack = stackalloc ulong[8];
        stack[0] = 0x4242; stack[3] = 0xD00D;
        // def_cfa_sf rsp, -4 (= +32); register rbx <- r13; val_offset r14 = cfa-16 (factored 2);
        // offset rbp cfa-32 then restore rbp (back to the CIE's: unchanged).
        byte[] program = { 0x12, 7, 0x7C, 0x09, 3, 13, 0x14, 14, 2, 0x86, 4, 0xC6 };
        RegisterSet regs = StackAt(stack);
        Assert.That(UnwindSynthetic(program, 0x1000, ref regs), Is.Null);
        Assert.That(regs.Rsp, Is.EqualTo((ulong)(stack + 4)));
        Assert.That(regs.Rip, Is.EqualTo(0xD00D));
        Assert.That(regs.Rbx, Is.EqualTo(0x13), "register rule");
        Assert.That(regs.R14, Is.EqualTo((ulong)(stack + 2)), "val_offset: the value is the address");
        Assert.That(regs.Rbp, Is.EqualTo(0xBB), "restored to the CIE's rule");
    }

    [Test]
    public void ExpressionsAndUnknownOpcodesAreErrorsNotGuesses()
    {
        ulong* stack = stackalloc ulong[4];
        RegisterSet regs = StackAt(stack);
        Assert.That(UnwindSynthetic(new byte[] { 0x0F, 1, 0x77 }, 0x1000, ref regs), Does.Contain("expression"));
        regs = StackAt(stack);
        Assert.That(UnwindSynthetic(new byte[] { 0x3F }, 0x1000, ref regs), Does.Contain("unknown CFA opcode 0x3f"));
        regs = StackAt(stack);
        Assert.That(UnwindSynthetic(new byte[] { 0x0B }, 0x1000, ref regs), Does.Contain("restore_state"));
        regs = StackAt(stack);
        Assert.That(UnwindSynthetic(new byte[] { 0x07, 16 }, 0x1000, ref regs), Does.Contain("return address undefined"));
    }

    [Test]
    public void LebEncodingsReadMultiByteAndNegativeValues()
    {
        using var bytes = new Native(new byte[] { 0xE5, 0x8E, 0x26, 0x7F, 0x80, 0x7F });
        byte* p = bytes.Start;
        Assert.That(CallFrameInfo.ReadUleb(ref p), Is.EqualTo(624485));
        Assert.That(CallFrameInfo.ReadSleb(ref p), Is.EqualTo(-1));
        Assert.That(CallFrameInfo.ReadSleb(ref p), Is.EqualTo(-128));
        Assert.That(p - bytes.Start, Is.EqualTo(6));
    }

    [Test]
    public void SearchTableFindsTheGreatestStartNotAbove()
    {
        // version 1, eh_frame_ptr sdata4|pcrel, count udata4, table datarel|sdata4; 3 entries.
        var header = new List<byte> { 1, 0x1B, 0x03, 0x3B, 0, 0, 0, 0, 3, 0, 0, 0 };
        foreach (int value in new[] { 0x100, 0x40, 0x200, 0x50, 0x300, 0x60 })
            header.AddRange(BitConverter.GetBytes(value));
        using var image = new Native(header.ToArray());
        Assert.That(CallFrameInfo.OpenSearchTable(image.Start, out int* table, out uint count), Is.Null);
        Assert.That(count, Is.EqualTo(3));
        ulong at(int offset) => (ulong)image.Start + (ulong)offset;
        Assert.That((nint)CallFrameInfo.FindFrameEntry(image.Start, table, count, at(0xFF)), Is.EqualTo((nint)0));
        Assert.That((nint)CallFrameInfo.FindFrameEntry(image.Start, table, count, at(0x100)), Is.EqualTo((nint)(image.Start + 0x40)));
        Assert.That((nint)CallFrameInfo.FindFrameEntry(image.Start, table, count, at(0x2FF)), Is.EqualTo((nint)(image.Start + 0x50)));
        Assert.That((nint)CallFrameInfo.FindFrameEntry(image.Start, table, count, at(0x5000)), Is.EqualTo((nint)(image.Start + 0x60)));
    }

    [Test]
    public void VarIntReadsEveryLength()
    {
        uint[] values = { 0, 127, 128, 16383, 16384, 2097151, 2097152, 268435455, 268435456, uint.MaxValue };
        var bytes = new List<byte>();
        foreach (uint v in values) VarInt(bytes, v);
        using var image = new Native(bytes.ToArray());
        byte* p = image.Start;
        foreach (uint v in values)
            Assert.That(EhTable.ReadVarInt(ref p), Is.EqualTo(v));
        Assert.That(p - image.Start, Is.EqualTo(bytes.Count));
    }

    private static void VarInt(List<byte> bytes, uint v)
    {
        if (v < 1u << 7) bytes.Add((byte)(v << 1));
        else if (v < 1u << 14) { bytes.Add((byte)((v << 2) | 1)); bytes.Add((byte)(v >> 6)); }
        else if (v < 1u << 21) { bytes.Add((byte)((v << 3) | 3)); bytes.Add((byte)(v >> 5)); bytes.Add((byte)(v >> 13)); }
        else if (v < 1u << 28) { bytes.Add((byte)((v << 4) | 7)); bytes.Add((byte)(v >> 4)); bytes.Add((byte)(v >> 12)); bytes.Add((byte)(v >> 20)); }
        else { bytes.Add(15); bytes.AddRange(BitConverter.GetBytes(v)); }
    }

    [Test]
    public void ClauseReaderDecodesTypedFaultFilterAndMarkerClauses()
    {
        // 4 clauses: typed [4,0x10) -> 0x40 (type at +0x20 from its field); marker [0,0) fault;
        // fault [4,0x10) -> 0x60; filter [2,0x30) -> 0x80, filter at 0x70.
        var bytes = new List<byte>();
        VarInt(bytes, 4);
        VarInt(bytes, 4); VarInt(bytes, 0xC << 2 | 0); VarInt(bytes, 0x40);
        int typeField = bytes.Count;
        bytes.AddRange(BitConverter.GetBytes(0x20));
        VarInt(bytes, 0); VarInt(bytes, 0 << 2 | 1); VarInt(bytes, 0);
        VarInt(bytes, 4); VarInt(bytes, 0xC << 2 | 1); VarInt(bytes, 0x60);
        VarInt(bytes, 2); VarInt(bytes, 0x2E << 2 | 2); VarInt(bytes, 0x80); VarInt(bytes, 0x70);
        using var image = new Native(bytes.ToArray());
        var reader = new EhClauseReader(image.Start);
        Assert.That(reader.Remaining, Is.EqualTo(4));

        Assert.That(reader.Next(out EhClause typed), Is.True);
        Assert.That((typed.TryStart, typed.TryEnd, typed.Kind, typed.HandlerOffset), Is.EqualTo((4u, 0x10u, EhClauseKind.TypedCatch, 0x40u)));
        Assert.That((nint)typed.TargetType, Is.EqualTo((nint)(image.Start + typeField + 0x20)));
        Assert.That(reader.Next(out EhClause marker), Is.True);
        Assert.That((marker.TryStart, marker.TryEnd, marker.Kind), Is.EqualTo((0u, 0u, EhClauseKind.Fault)));
        Assert.That(marker.Contains(0), Is.False, "an empty range contains nothing");
        Assert.That(reader.Next(out EhClause fault), Is.True);
        Assert.That((fault.TryStart, fault.TryEnd, fault.Kind, fault.HandlerOffset), Is.EqualTo((4u, 0x10u, EhClauseKind.Fault, 0x60u)));
        Assert.That(fault.SameTryAs(typed), Is.True);
        Assert.That(fault.Contains(4) && fault.Contains(0xF) && !fault.Contains(0x10), Is.True, "[start, end)");
        Assert.That(reader.Next(out EhClause filter), Is.True);
        Assert.That((filter.TryStart, filter.TryEnd, filter.Kind, filter.HandlerOffset, filter.FilterOffset), Is.EqualTo((2u, 0x30u, EhClauseKind.Filter, 0x80u, 0x70u)));
        Assert.That(reader.Next(out _), Is.False);
    }

    [Test]
    public void FuncletBlockLeadsToTheMainBodyAndItsStart()
    {
        // main block: flags 0x04|0x10 (EH info, associated data), assoc relptr, EH relptr -> +0x10 (count 0)
        // funclet block at +0x20: flags 0x01, relptr back to main, funclet offset 0x3e.
        byte[] bytes = new byte[0x40];
        bytes[0] = 0x14;
        BitConverter.GetBytes(0x7777).CopyTo(bytes, 1);
        BitConverter.GetBytes(0x10 - 5).CopyTo(bytes, 5); // EH info at 0x10
        bytes[0x20] = 0x01;
        BitConverter.GetBytes(-0x21).CopyTo(bytes, 0x21);
        BitConverter.GetBytes(0x3E).CopyTo(bytes, 0x25);
        using var image = new Native(bytes);
        Assert.That(EhTable.ReadMethod(image.Start + 0x20, 0x213E, out MethodInfo funclet), Is.Null);
        Assert.That(funclet.Kind, Is.EqualTo(MethodInfo.KindHandlerFunclet));
        Assert.That(funclet.MethodStart, Is.EqualTo(0x2100));
        Assert.That((nint)funclet.MainBlock, Is.EqualTo((nint)image.Start));
        Assert.That((nint)funclet.EhInfo, Is.EqualTo((nint)(image.Start + 0x10)));
        bytes[0] = 0x00;
        using var plain = new Native(bytes);
        Assert.That(EhTable.ReadMethod(plain.Start, 0x2100, out MethodInfo main), Is.Null);
        Assert.That((nint)main.EhInfo, Is.EqualTo((nint)0), "no EH info flag: no clauses");
    }

    // ---------------- the divide-error decoder ----------------

    private static bool DivisorIsZero(byte[] instruction, Action<ulong[]> set)
    {
        ulong[] registers = new ulong[16];
        set(registers);
        using var code = new Native(instruction);
        fixed (ulong* r = registers)
            return FaultDecoder.DivisorIsZero(code.Start, r);
    }

    [Test]
    public void DivideErrorWithZeroDivisorIsDivideByZero()
    {
        Assert.That(DivisorIsZero(new byte[] { 0xF7, 0xFE }, r => { r[6] = 0xFFFFFFFF00000000; }), Is.True, "idiv esi: only the low 32 bits count");
        Assert.That(DivisorIsZero(new byte[] { 0x48, 0xF7, 0xF9 }, r => { }), Is.True, "idiv rcx");
        Assert.That(DivisorIsZero(new byte[] { 0x49, 0xF7, 0xF8 }, r => { r[0] = 5; }), Is.True, "idiv r8 (REX.B)");
    }

    [Test]
    public void DivideErrorWithNonZeroDivisorIsOverflow()
    {
        Assert.That(DivisorIsZero(new byte[] { 0xF7, 0xFE }, r => { r[6] = 0xFFFFFFFF; }), Is.False, "idiv esi with -1");
        Assert.That(FaultDecoder.HardwareOverflow, Is.Not.EqualTo(FaultDecoder.HardwareDivideByZero));
        Assert.That(DivisorIsZero(new byte[] { 0x49, 0xF7, 0xF8 }, r => { r[8] = ulong.MaxValue; }), Is.False, "idiv r8");
        Assert.That(DivisorIsZero(new byte[] { 0xF6, 0xFC }, r => { r[0] = 0xFF00; }), Is.False, "idiv ah (no REX: register 4 is ah)");
        Assert.That(DivisorIsZero(new byte[] { 0x40, 0xF6, 0xFC }, r => { r[4] = 0xFF00; }), Is.True, "idiv spl (REX: register 4 is spl)");
    }

    [Test]
    public void DivideErrorReadsMemoryOperands()
    {
        long[] memory = { 0, -1, 0 };
        fixed (long* m = memory)
        {
            ulong baseAddress = (ulong)m;
            // idiv dword [rbp-8] with rbp = &memory[2]: reads memory[1] = -1
            Assert.That(DivisorIsZero(new byte[] { 0xF7, 0x7D, 0xF8 }, r => { r[5] = baseAddress + 16; }), Is.False);
            // idiv qword [rsp+8] (SIB) with rsp = &memory[1]: memory[2] = 0
            Assert.That(DivisorIsZero(new byte[] { 0x48, 0xF7, 0x7C, 0x24, 0x08 }, r => { r[4] = baseAddress + 8; }), Is.True);
            // idiv qword [rax + rcx*8] (SIB, index): memory[1]
            Assert.That(DivisorIsZero(new byte[] { 0x48, 0xF7, 0x3C, 0xC8 }, r => { r[0] = baseAddress; r[1] = 1; }), Is.False);
        }
        // idiv dword [rip+disp32]: the displacement counts from the end of the instruction
        byte[] code = { 0xF7, 0x3D, 0x02, 0, 0, 0, 0xAA, 0xAA, 0, 0, 0, 0 };
        Assert.That(DivisorIsZero(code, r => { }), Is.True);
        code[8] = 7;
        Assert.That(DivisorIsZero(code, r => { }), Is.False);
        Assert.That(DivisorIsZero(new byte[] { 0x90 }, r => { }), Is.True, "not a division: counted as divide by zero");
    }

    // ---------------- the real kernel image ----------------

    private sealed class Image : IDisposable
    {
        public byte* Base;
        public ulong BaseAddress;
        public readonly Dictionary<string, (ulong Address, ulong Size)> Sections = new();
        public readonly Dictionary<string, ulong> Symbols = new();
        public byte* At(ulong address) => Base + (address - BaseAddress);
        public ulong AddressOf(void* p) => (ulong)((byte*)p - Base) + BaseAddress;
        public void Dispose() => NativeMemory.Free(Base);

        public static Image Load(string path)
        {
            byte[] file = File.ReadAllBytes(path);
            ulong shoff = BitConverter.ToUInt64(file, 0x28);
            int shentsize = BitConverter.ToUInt16(file, 0x3A), shnum = BitConverter.ToUInt16(file, 0x3C), shstrndx = BitConverter.ToUInt16(file, 0x3E);
            var headers = new List<(string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link)>();
            ulong strOffset = BitConverter.ToUInt64(file, (int)shoff + shstrndx * shentsize + 0x18);
            for (int i = 0; i < shnum; i++)
            {
                int h = (int)shoff + i * shentsize;
                string name = CString(file, (int)strOffset + BitConverter.ToInt32(file, h));
                headers.Add((name, BitConverter.ToUInt32(file, h + 4), BitConverter.ToUInt64(file, h + 8), BitConverter.ToUInt64(file, h + 0x10),
                    BitConverter.ToUInt64(file, h + 0x18), BitConverter.ToUInt64(file, h + 0x20), BitConverter.ToUInt32(file, h + 0x28)));
            }
            var loaded = headers.Where(s => (s.Flags & 2) != 0 && s.Address >= 0xFFFFFFFF80000000).ToList();
            var image = new Image { BaseAddress = loaded.Min(s => s.Address) };
            ulong end = loaded.Max(s => s.Address + s.Size);
            image.Base = (byte*)NativeMemory.AllocZeroed((nuint)(end - image.BaseAddress));
            foreach (var s in loaded)
            {
                image.Sections[s.Name] = (s.Address, s.Size);
                if (s.Type != 8) // NOBITS
                    new Span<byte>(file, (int)s.Offset, (int)s.Size).CopyTo(new Span<byte>(image.At(s.Address), (int)s.Size));
            }
            var symtab = headers.First(s => s.Type == 2);
            ulong strtab = headers[(int)symtab.Link].Offset;
            for (ulong e = symtab.Offset; e < symtab.Offset + symtab.Size; e += 24)
            {
                string name = CString(file, (int)strtab + BitConverter.ToInt32(file, (int)e));
                if (name.Length > 0) image.Symbols[name] = BitConverter.ToUInt64(file, (int)e + 8);
            }
            return image;
        }

        private static string CString(byte[] file, int offset)
        {
            int end = offset;
            while (file[end] != 0) end++;
            return Encoding.ASCII.GetString(file, offset, end - offset);
        }
    }

    private static Image KernelImage()
    {
        string directory = TestContext.CurrentContext.TestDirectory;
        while (directory != null && !File.Exists(Path.Combine(directory, "Aegis.sln")))
            directory = Path.GetDirectoryName(directory)!;
        string path = directory == null ? "" : Path.Combine(directory, "artifacts", "Release", "Aegis.Kernel.elf");
        if (!File.Exists(path))
            Assert.Ignore("artifacts/Release/Aegis.Kernel.elf is absent: build the ISO (./aegis iso) first");
        return Image.Load(path);
    }

    /// <summary>Every FDE of .eh_frame, in order, walked linearly (what the search must agree with).</summary>
    private static List<FrameEntry> AllFrames(Image image)
    {
        var frames = new List<FrameEntry>();
        var (address, size) = image.Sections[".eh_frame"];
        byte* p = image.At(address), end = p + size;
        while (p < end && *(uint*)p != 0)
        {
            uint length = *(uint*)p;
            if (*(uint*)(p + 4) != 0)
            {
                Assert.That(CallFrameInfo.ParseCommonEntry(CallFrameInfo.CommonEntryOf(p), out CommonEntry cie), Is.Null);
                Assert.That(CallFrameInfo.ParseFrameEntry(p, cie, out FrameEntry fde), Is.Null);
                frames.Add(fde);
            }
            p += 4 + length;
        }
        return frames;
    }

    private static (CommonEntry, FrameEntry) FrameOf(Image image, ulong codeAddress)
    {
        byte* header = image.At(image.Sections[".eh_frame_hdr"].Address);
        Assert.That(CallFrameInfo.OpenSearchTable(header, out int* table, out uint count), Is.Null);
        byte* fde = CallFrameInfo.FindFrameEntry(header, table, count, (ulong)image.At(codeAddress));
        Assert.That((nint)fde, Is.Not.EqualTo((nint)0));
        Assert.That(CallFrameInfo.ParseCommonEntry(CallFrameInfo.CommonEntryOf(fde), out CommonEntry cie), Is.Null);
        Assert.That(CallFrameInfo.ParseFrameEntry(fde, cie, out FrameEntry frame), Is.Null);
        return (cie, frame);
    }

    [Test]
    public void RealKernelEveryFdeIsFoundByTheBinarySearch()
    {
        using Image image = KernelImage();
        List<FrameEntry> frames = AllFrames(image);
        byte* header = image.At(image.Sections[".eh_frame_hdr"].Address);
        Assert.That(CallFrameInfo.OpenSearchTable(header, out int* table, out uint count), Is.Null);
        Assert.That(count, Is.EqualTo(frames.Count));
        Assert.That(frames.Count, Is.GreaterThan(1000));
        foreach (FrameEntry frame in frames)
        {
            Assert.That((nint)CallFrameInfo.FindFrameEntry(header, table, count, frame.Start), Is.EqualTo((nint)frame.Address));
            Assert.That((nint)CallFrameInfo.FindFrameEntry(header, table, count, frame.End - 1), Is.EqualTo((nint)frame.Address));
        }
    }

    [Test]
    public void RealKernelEveryLsdaIsAMethodBlockAndFuncletsLeadToAMainBody()
    {
        using Image image = KernelImage();
        List<FrameEntry> frames = AllFrames(image);
        var mainStarts = new HashSet<ulong>();
        var methods = new List<(FrameEntry Frame, MethodInfo Method)>();
        foreach (FrameEntry frame in frames.Where(f => f.Lsda != null))
        {
            Assert.That(EhTable.ReadMethod(frame.Lsda, frame.Start, out MethodInfo method), Is.Null);
            if (method.Kind == MethodInfo.KindMainBody) mainStarts.Add(frame.Start);
            methods.Add((frame, method));
        }
        int funclets = 0;
        foreach (var (frame, method) in methods.Where(m => m.Method.Kind != MethodInfo.KindMainBody))
        {
            funclets++;
            Assert.That(mainStarts, Does.Contain(method.MethodStart), "a funclet's method start is a main body's FDE start");
            Assert.That(method.EhInfo != null, Is.True, "a method with funclets has clauses");
        }
        Assert.That(funclets, Is.GreaterThan(50));
    }

    private static List<EhClause> ClausesOf(Image image, string symbol, out MethodInfo method)
    {
        ulong start = image.Symbols["Aegis_Kernel_Aegis_RuntimeTests_" + symbol];
        var (_, frame) = FrameOf(image, start);
        Assert.That(EhTable.ReadMethod(frame.Lsda, frame.Start, out method), Is.Null);
        var clauses = new List<EhClause>();
        var reader = new EhClauseReader(method.EhInfo);
        while (reader.Next(out EhClause clause)) clauses.Add(clause);
        return clauses;
    }

    [Test]
    public void RealKernelClausesMatchTheSource()
    {
        using Image image = KernelImage();

        // try { ThrowDerived } catch (InvalidOperationException) catch (BaseTestException) catch (Exception); then try { } catch (Exception)
        List<EhClause> hierarchy = ClausesOf(image, "ExceptionTests__CatchTypedByHierarchy", out _);
        Assert.That(hierarchy.Select(c => c.Kind), Is.All.EqualTo(EhClauseKind.TypedCatch));
        Assert.That(hierarchy[1].SameTryAs(hierarchy[0]) && hierarchy[2].SameTryAs(hierarchy[0]), Is.True, "sibling catches share the try range");
        Assert.That(image.AddressOf(hierarchy[0].TargetType), Is.EqualTo(image.Symbols.First(s => s.Key.EndsWith("Aegis_Runtime_System_InvalidOperationException") && s.Key.StartsWith("_ZTV")).Value));
        Assert.That(image.AddressOf(hierarchy[1].TargetType), Is.EqualTo(image.Symbols.First(s => s.Key.EndsWith("RuntimeTests_BaseTestException") && s.Key.StartsWith("_ZTV")).Value));

        // C#'s finally is a fault clause whose handler is the method's funclet.
        List<EhClause> underFinally = ClausesOf(image, "ExceptionTests__ThrowUnderFinally", out MethodInfo method);
        Assert.That(underFinally, Has.Count.EqualTo(1));
        Assert.That(underFinally[0].Kind, Is.EqualTo(EhClauseKind.Fault));
        var (_, funclet) = FrameOf(image, image.AddressOf((void*)(method.MethodStart + underFinally[0].HandlerOffset)));
        Assert.That(funclet.Start, Is.EqualTo(method.MethodStart + underFinally[0].HandlerOffset), "the handler starts a funclet's FDE");
        Assert.That(EhTable.ReadMethod(funclet.Lsda, funclet.Start, out MethodInfo funcletMethod), Is.Null);
        Assert.That(funcletMethod.Kind, Is.EqualTo(MethodInfo.KindHandlerFunclet));
        Assert.That(funcletMethod.MethodStart, Is.EqualTo(method.MethodStart));

        List<EhClause> filter = ClausesOf(image, "ExceptionTests__FilterRunsBeforeFinally", out MethodInfo filterMethod);
        Assert.That(filter, Has.Count.EqualTo(1));
        Assert.That(filter[0].Kind, Is.EqualTo(EhClauseKind.Filter));
        var (_, filterFunclet) = FrameOf(image, image.AddressOf((void*)(filterMethod.MethodStart + filter[0].FilterOffset)));
        Assert.That(EhTable.ReadMethod(filterFunclet.Lsda, filterFunclet.Start, out MethodInfo filterInfo), Is.Null);
        Assert.That(filterInfo.Kind, Is.EqualTo(MethodInfo.KindFilterFunclet));

        // try { try { } catch { ...; throw; } } catch { }: the two catches cover the same code,
        // a marker clause (empty range) separates the inner try from the outer one.
        List<EhClause> rethrow = ClausesOf(image, "ExceptionTests__RethrowPreservesException", out _);
        int marker = rethrow.FindIndex(c => c.TryStart == c.TryEnd);
        Assert.That(marker, Is.GreaterThan(0));
        Assert.That(rethrow[marker + 1].SameTryAs(rethrow[marker - 1]), Is.True);
    }

    [Test]
    public void RealKernelPrologueUnwinds()
    {
        using Image image = KernelImage();
        // ThrowUnderFinally: push rbp; push rbx; push rax; lea rbp, [rsp+0x10]; ...
        ulong start = image.Symbols["Aegis_Kernel_Aegis_RuntimeTests_ExceptionTests__ThrowUnderFinally"];
        var (cie, frame) = FrameOf(image, start);
        ulong* stack = stackalloc ulong[4];
        stack[0] = 0x1111; stack[1] = 0xB0B0; stack[2] = 0xBBBB; stack[3] = 0x4242;
        var regs = new RegisterSet { Rsp = (ulong)stack, Rbx = 1, Rbp = 2 };
        Assert.That(CallFrameInfo.Unwind(cie, frame, frame.Start + 3, ref regs), Is.Null);
        Assert.That((regs.Rip, regs.Rsp, regs.Rbx, regs.Rbp), Is.EqualTo((0x4242UL, (ulong)(stack + 4), 0xB0B0UL, 0xBBBBUL)));
        regs = new RegisterSet { Rsp = (ulong)stack, Rbx = 1, Rbp = 2 };
        Assert.That(CallFrameInfo.Unwind(cie, frame, frame.Start, ref regs), Is.Null);
        Assert.That((regs.Rip, regs.Rsp, regs.Rbx, regs.Rbp), Is.EqualTo((0x1111UL, (ulong)(stack + 1), 1UL, 2UL)), "at the first instruction nothing is pushed yet");
    }
}
