// DWARF call-frame information (.eh_frame, .eh_frame_hdr) as ILC and GNU as emit it: enough to
// find the entry (FDE) that covers a code address by binary search, read its common entry (CIE),
// and unwind one frame (compute the caller's RIP, RSP and callee-saved registers).
// Pure functions over byte pointers: no allocation except error strings, no runtime state, so
// the same source is host-tested against real .NET (Aegis.Tests/Host/EhCallFrameInfoTests.cs).
// Invariants: every read stays inside the entry's declared length; anything unsupported (DWARF
// expressions, 64-bit DWARF lengths, unknown opcodes or pointer encodings) is an error string,
// never a guess.
namespace Internal.Runtime.ExceptionHandling
{
    /// <summary>The registers an unwind step computes: where the frame is (RIP, RSP) and the
    /// System V callee-saved registers. Layout shared with Native/eh.S (8 bytes each, this order).</summary>
    public struct RegisterSet
    {
        public ulong Rip, Rsp, Rbx, Rbp, R12, R13, R14, R15;

        public const int RipOffset = 0, RspOffset = 8, RbxOffset = 16, RbpOffset = 24;
        public const int Size = 64;

        /// <summary>DWARF register number (x86-64 psABI) -> value; false for registers not tracked.</summary>
        public bool TryGet(int dwarfRegister, out ulong value)
        {
            switch (dwarfRegister)
            {
                case 3: value = Rbx; return true;
                case 6: value = Rbp; return true;
                case 7: value = Rsp; return true;
                case 12: value = R12; return true;
                case 13: value = R13; return true;
                case 14: value = R14; return true;
                case 15: value = R15; return true;
                case 16: value = Rip; return true;
                default: value = 0; return false;
            }
        }

        public void Set(int dwarfRegister, ulong value)
        {
            switch (dwarfRegister)
            {
                case 3: Rbx = value; break;
                case 6: Rbp = value; break;
                case 7: Rsp = value; break;
                case 12: R12 = value; break;
                case 13: R13 = value; break;
                case 14: R14 = value; break;
                case 15: R15 = value; break;
                case 16: Rip = value; break;
            }
        }
    }

    /// <summary>A parsed common information entry.</summary>
    public unsafe struct CommonEntry
    {
        public byte* Address;
        public byte* Instructions, InstructionsEnd;
        public ulong CodeAlignment;
        public long DataAlignment;
        public int ReturnAddressRegister;
        public byte PointerEncoding;     // 'R'
        public byte LsdaEncoding;        // 'L' (0xFF: none)
        public bool HasAugmentationData; // 'z'
        public bool IsSignalFrame;       // 'S'
    }

    /// <summary>A parsed frame description entry: the code range it covers, its language-specific
    /// data (for ILC code: the .dotnet_eh_table block), its instructions.</summary>
    public unsafe struct FrameEntry
    {
        public byte* Address;
        public byte* CommonEntryAddress;
        public ulong Start, End;
        public byte* Lsda;
        public byte* Instructions, InstructionsEnd;
    }

    public static unsafe class CallFrameInfo
    {
        // Pointer encodings (low nibble: format, high nibble: application).
        public const byte EncodingOmit = 0xFF;
        private const byte FormatAbsolute = 0x00, FormatUleb = 0x01, FormatUdata2 = 0x02, FormatUdata4 = 0x03, FormatUdata8 = 0x04;
        private const byte FormatSleb = 0x09, FormatSdata2 = 0x0A, FormatSdata4 = 0x0B, FormatSdata8 = 0x0C;
        private const byte ApplicationPcRelative = 0x10, ApplicationDataRelative = 0x30;

        public static ulong ReadUleb(ref byte* p)
        {
            ulong result = 0;
            int shift = 0;
            byte b;
            do
            {
                b = *p++;
                if (shift < 64) result |= (ulong)(b & 0x7F) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            return result;
        }

        public static long ReadSleb(ref byte* p)
        {
            long result = 0;
            int shift = 0;
            byte b;
            do
            {
                b = *p++;
                if (shift < 64) result |= (long)(b & 0x7F) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            if (shift < 64 && (b & 0x40) != 0)
                result |= -1L << shift;
            return result;
        }

        /// <summary>Reads a pointer in 'encoding'. dataBase is the base of data-relative values
        /// (the .eh_frame_hdr start). False for an encoding this reader does not know.</summary>
        public static bool ReadEncoded(ref byte* p, byte encoding, ulong dataBase, out ulong value)
        {
            byte* at = p;
            switch (encoding & 0x0F)
            {
                case FormatAbsolute: value = *(ulong*)p; p += 8; break;
                case FormatUleb: value = ReadUleb(ref p); break;
                case FormatUdata2: value = *(ushort*)p; p += 2; break;
                case FormatUdata4: value = *(uint*)p; p += 4; break;
                case FormatUdata8: value = *(ulong*)p; p += 8; break;
                case FormatSleb: value = (ulong)ReadSleb(ref p); break;
                case FormatSdata2: value = (ulong)(long)*(short*)p; p += 2; break;
                case FormatSdata4: value = (ulong)(long)*(int*)p; p += 4; break;
                case FormatSdata8: value = *(ulong*)p; p += 8; break;
                default: value = 0; return false;
            }
            switch (encoding & 0x70)
            {
                case 0: break;
                case ApplicationPcRelative: value += (ulong)at; break;
                case ApplicationDataRelative: value += dataBase; break;
                default: return false;
            }
            return (encoding & 0x80) == 0; // indirect pointers: not emitted by ILC or as
        }

        /// <summary>Parses the CIE at 'cie'. Returns null or what is wrong.</summary>
        public static string ParseCommonEntry(byte* cie, out CommonEntry entry)
        {
            entry = default;
            entry.Address = cie;
            entry.LsdaEncoding = EncodingOmit;
            entry.PointerEncoding = 0;
            uint length = *(uint*)cie;
            if (length == 0xFFFFFFFF) return "64-bit DWARF CIE";
            if (length < 8) return "CIE too short";
            byte* end = cie + 4 + length;
            if (*(uint*)(cie + 4) != 0) return "not a CIE";
            byte* p = cie + 8;
            byte version = *p++;
            if (version != 1 && version != 3) return "CIE version " + version.ToString();
            byte* augmentation = p;
            while (*p != 0) p++;
            p++;
            entry.CodeAlignment = ReadUleb(ref p);
            entry.DataAlignment = ReadSleb(ref p);
            entry.ReturnAddressRegister = version == 1 ? *p++ : (int)ReadUleb(ref p);
            byte* augmentationEnd = null;
            for (byte* a = augmentation; *a != 0; a++)
            {
                switch ((char)*a)
                {
                    case 'z':
                        if (a != augmentation) return "'z' not first in the CIE augmentation";
                        ulong size = ReadUleb(ref p);
                        augmentationEnd = p + size;
                        entry.HasAugmentationData = true;
                        break;
                    case 'R': entry.PointerEncoding = *p++; break;
                    case 'L': entry.LsdaEncoding = *p++; break;
                    case 'S': entry.IsSignalFrame = true; break;
                    case 'P':
                        {
                            byte personalityEncoding = *p++;
                            if (!ReadEncoded(ref p, (byte)(personalityEncoding & 0x7F), 0, out _))
                                return "unsupported personality encoding";
                            break;
                        }
                    default:
                        if (!entry.HasAugmentationData) return "unknown CIE augmentation";
                        p = augmentationEnd; // the rest is skippable thanks to 'z'
                        goto done;
                }
            }
        done:
            if (augmentationEnd != null) p = augmentationEnd;
            if (p > end) return "CIE overruns its length";
            entry.Instructions = p;
            entry.InstructionsEnd = end;
            return null;
        }

        /// <summary>Parses the FDE at 'fde' with its (already parsed) CIE. Returns null or what is wrong.</summary>
        public static string ParseFrameEntry(byte* fde, in CommonEntry cie, out FrameEntry entry)
        {
            entry = default;
            entry.Address = fde;
            uint length = *(uint*)fde;
            if (length == 0xFFFFFFFF) return "64-bit DWARF FDE";
            if (length < 8) return "FDE too short";
            byte* end = fde + 4 + length;
            entry.CommonEntryAddress = CommonEntryOf(fde);
            if (entry.CommonEntryAddress != cie.Address) return "FDE does not belong to this CIE";
            byte* p = fde + 8;
            if (!ReadEncoded(ref p, cie.PointerEncoding, 0, out ulong start)) return "unsupported FDE pointer encoding";
            if (!ReadEncoded(ref p, (byte)(cie.PointerEncoding & 0x0F), 0, out ulong range)) return "unsupported FDE range encoding";
            entry.Start = start;
            entry.End = start + range;
            if (cie.HasAugmentationData)
            {
                ulong size = ReadUleb(ref p);
                byte* dataEnd = p + size;
                if (cie.LsdaEncoding != EncodingOmit && size > 0)
                {
                    byte* q = p;
                    if (!ReadEncoded(ref q, cie.LsdaEncoding, 0, out ulong lsda)) return "unsupported LSDA encoding";
                    entry.Lsda = (byte*)lsda;
                }
                p = dataEnd;
            }
            if (p > end) return "FDE overruns its length";
            entry.Instructions = p;
            entry.InstructionsEnd = end;
            return null;
        }

        /// <summary>The CIE an FDE refers to (its second word is the distance back to it).</summary>
        public static byte* CommonEntryOf(byte* fde) => fde + 4 - *(uint*)(fde + 4);

        // ---- .eh_frame_hdr: the linker's sorted table (initial location -> FDE) ----

        /// <summary>Checks an .eh_frame_hdr (GNU ld --eh-frame-hdr) and returns its table: 'count'
        /// pairs of int32 (code address, FDE address), both relative to the header, sorted by
        /// code address. Returns null or what is wrong.</summary>
        public static string OpenSearchTable(byte* header, out int* table, out uint count)
        {
            table = null;
            count = 0;
            if (header[0] != 1) return ".eh_frame_hdr version " + header[0].ToString();
            byte framePointerEncoding = header[1], countEncoding = header[2], tableEncoding = header[3];
            byte* p = header + 4;
            if (!ReadEncoded(ref p, framePointerEncoding, (ulong)header, out _)) return "unsupported .eh_frame pointer encoding";
            if (countEncoding == EncodingOmit || tableEncoding == EncodingOmit) return ".eh_frame_hdr has no search table";
            if (!ReadEncoded(ref p, countEncoding, (ulong)header, out ulong n)) return "unsupported count encoding";
            if (tableEncoding != (ApplicationDataRelative | FormatSdata4)) return "search table encoding is not datarel sdata4";
            table = (int*)p;
            count = (uint)n;
            return null;
        }

        /// <summary>Binary search: the FDE with the greatest start address ≤ pc, or null. The
        /// caller checks that pc is below the FDE's end.</summary>
        public static byte* FindFrameEntry(byte* header, int* table, uint count, ulong pc)
        {
            long offset = (long)(pc - (ulong)header);
            uint low = 0, high = count;
            while (low < high)
            {
                uint middle = (low + high) / 2;
                if (table[middle * 2] <= offset)
                    low = middle + 1;
                else
                    high = middle;
            }
            if (low == 0) return null;
            return header + table[(low - 1) * 2 + 1];
        }

        // ---- The CFA interpreter ----
        // Rules are kept only for the registers an unwind step restores (RBX, RBP, RSP, R12-R15
        // and the return address); rules for others (caller-saved and vector registers) are
        // read and ignored.

        private const byte RuleUnchanged = 0, RuleUndefined = 1, RuleOffset = 2, RuleValueOffset = 3, RuleRegister = 4;
        private const int Slots = 8;
        private const int MaximumRememberedStates = 4;

        private struct Row
        {
            public int CfaRegister;
            public long CfaOffset;
            public fixed byte Rule[Slots];
            public fixed long Value[Slots];
        }

        /// <summary>DWARF register -> slot in Row, or -1 for registers not tracked.</summary>
        private static int SlotOf(int register)
        {
            switch (register)
            {
                case 3: return 0;   // rbx
                case 6: return 1;   // rbp
                case 7: return 2;   // rsp
                case 12: return 3;
                case 13: return 4;
                case 14: return 5;
                case 15: return 6;
                case 16: return 7;  // return address
                default: return -1;
            }
        }

        /// <summary>Slot -> DWARF register (no static array: this runs before statics may exist).</summary>
        private static int RegisterOf(int slot)
        {
            switch (slot)
            {
                case 0: return 3;
                case 1: return 6;
                case 2: return 7;
                case 3: return 12;
                case 4: return 13;
                case 5: return 14;
                case 6: return 15;
                default: return 16;
            }
        }

        /// <summary>Unwinds one frame: 'regs' holds the frame's registers (RIP anywhere in the FDE's
        /// range; 'pc' is the address to look the row up at: RIP for the interrupted frame, RIP − 1
        /// for a caller); on success it holds the caller's (RIP = return address, RSP = CFA).
        /// Returns null or what is wrong.</summary>
        [System.Runtime.CompilerServices.SkipLocalsInit]
        public static string Unwind(in CommonEntry cie, in FrameEntry fde, ulong pc, ref RegisterSet regs)
        {
            if (cie.ReturnAddressRegister != 16) return "return address column is not 16";
            Row initial, row;
            initial.CfaRegister = -1;
            initial.CfaOffset = 0;
            *(ulong*)initial.Rule = 0; // RuleUnchanged for every slot
            string error = Execute(cie, cie.Instructions, cie.InstructionsEnd, ulong.MaxValue, 0, &initial, &initial);
            if (error != null) return error;
            row = initial;
            error = Execute(cie, fde.Instructions, fde.InstructionsEnd, pc, fde.Start, &row, &initial);
            if (error != null) return error;

            if (!regs.TryGet(row.CfaRegister, out ulong cfaBase)) return "CFA based on an untracked register";
            ulong cfa = cfaBase + (ulong)row.CfaOffset;
            RegisterSet caller = regs;
            for (int slot = 0; slot < Slots; slot++)
            {
                byte rule = row.Rule[slot];
                if (rule == RuleUnchanged) continue;
                int register = RegisterOf(slot);
                switch (rule)
                {
                    case RuleOffset: caller.Set(register, *(ulong*)(cfa + (ulong)row.Value[slot])); break;
                    case RuleValueOffset: caller.Set(register, cfa + (ulong)row.Value[slot]); break;
                    case RuleRegister:
                        if (!regs.TryGet((int)row.Value[slot], out ulong v)) return "register rule names an untracked register";
                        caller.Set(register, v);
                        break;
                    case RuleUndefined:
                        if (register == 16) return "return address undefined (outermost frame)";
                        break;
                }
            }
            if (row.Rule[7] == RuleUnchanged) return "no rule for the return address";
            caller.Rsp = cfa;
            regs = caller;
            return null;
        }

        [System.Runtime.CompilerServices.SkipLocalsInit]
        private static string Execute(in CommonEntry cie, byte* p, byte* end, ulong pc, ulong location, Row* row, Row* initial)
        {
            Row* stack = stackalloc Row[MaximumRememberedStates];
            int depth = 0;
            long dataAlignment = cie.DataAlignment;
            ulong codeAlignment = cie.CodeAlignment;
            while (p < end)
            {
                byte op = *p++;
                int high = op & 0xC0, low = op & 0x3F;
                if (high == 0x40) // DW_CFA_advance_loc
                {
                    location += (ulong)low * codeAlignment;
                    if (location > pc) return null;
                    continue;
                }
                if (high == 0x80) // DW_CFA_offset
                {
                    SetRule(row, low, RuleOffset, (long)ReadUleb(ref p) * dataAlignment);
                    continue;
                }
                if (high == 0xC0) // DW_CFA_restore
                {
                    Restore(row, initial, low);
                    continue;
                }
                switch (op)
                {
                    case 0x00: break; // nop
                    case 0x01: // set_loc
                        if (!ReadEncoded(ref p, cie.PointerEncoding, 0, out location)) return "bad set_loc";
                        if (location > pc) return null;
                        break;
                    case 0x02: location += *p * codeAlignment; p += 1; if (location > pc) return null; break;
                    case 0x03: location += *(ushort*)p * codeAlignment; p += 2; if (location > pc) return null; break;
                    case 0x04: location += *(uint*)p * codeAlignment; p += 4; if (location > pc) return null; break;
                    case 0x05: // offset_extended
                        {
                            int r = (int)ReadUleb(ref p);
                            SetRule(row, r, RuleOffset, (long)ReadUleb(ref p) * dataAlignment);
                            break;
                        }
                    case 0x06: Restore(row, initial, (int)ReadUleb(ref p)); break; // restore_extended
                    case 0x07: SetRule(row, (int)ReadUleb(ref p), RuleUndefined, 0); break;
                    case 0x08: SetRule(row, (int)ReadUleb(ref p), RuleUnchanged, 0); break;
                    case 0x09: // register
                        {
                            int r = (int)ReadUleb(ref p);
                            SetRule(row, r, RuleRegister, (long)ReadUleb(ref p));
                            break;
                        }
                    case 0x0A: // remember_state
                        if (depth == MaximumRememberedStates) return "remember_state nested too deeply";
                        stack[depth++] = *row;
                        break;
                    case 0x0B: // restore_state (the CFA rule is restored too)
                        if (depth == 0) return "restore_state without remember_state";
                        *row = stack[--depth];
                        break;
                    case 0x0C: row->CfaRegister = (int)ReadUleb(ref p); row->CfaOffset = (long)ReadUleb(ref p); break;
                    case 0x0D: row->CfaRegister = (int)ReadUleb(ref p); break;
                    case 0x0E: row->CfaOffset = (long)ReadUleb(ref p); break;
                    case 0x11: // offset_extended_sf
                        {
                            int r = (int)ReadUleb(ref p);
                            SetRule(row, r, RuleOffset, ReadSleb(ref p) * dataAlignment);
                            break;
                        }
                    case 0x12: row->CfaRegister = (int)ReadUleb(ref p); row->CfaOffset = ReadSleb(ref p) * dataAlignment; break;
                    case 0x13: row->CfaOffset = ReadSleb(ref p) * dataAlignment; break;
                    case 0x14: // val_offset
                        {
                            int r = (int)ReadUleb(ref p);
                            SetRule(row, r, RuleValueOffset, (long)ReadUleb(ref p) * dataAlignment);
                            break;
                        }
                    case 0x15: // val_offset_sf
                        {
                            int r = (int)ReadUleb(ref p);
                            SetRule(row, r, RuleValueOffset, ReadSleb(ref p) * dataAlignment);
                            break;
                        }
                    case 0x2E: ReadUleb(ref p); break; // GNU_args_size: nothing to do on x86-64 with a CFA rule
                    case 0x2F: // GNU_negative_offset_extended
                        {
                            int r = (int)ReadUleb(ref p);
                            SetRule(row, r, RuleOffset, -(long)ReadUleb(ref p) * dataAlignment);
                            break;
                        }
                    case 0x0F:
                    case 0x10:
                    case 0x16:
                        return "DWARF expressions are not supported (opcode 0x" + op.ToString("x") + ")";
                    default:
                        return "unknown CFA opcode 0x" + op.ToString("x");
                }
            }
            return null;
        }

        private static void SetRule(Row* row, int register, byte rule, long value)
        {
            int slot = SlotOf(register);
            if (slot < 0) return; // a register an unwind step does not restore
            row->Rule[slot] = rule;
            row->Value[slot] = value;
        }

        private static void Restore(Row* row, Row* initial, int register)
        {
            int slot = SlotOf(register);
            if (slot < 0) return;
            row->Rule[slot] = initial->Rule[slot];
            row->Value[slot] = initial->Value[slot];
        }
    }
}
