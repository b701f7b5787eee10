// A SATA disk on an AHCI controller (issue #11; AHCI 1.3.1 sections 3 "HBA Memory Registers", 4
// "System Memory Structures", 5 "Theory of Operation"; ATA8-ACS for the commands). One port: the
// first implemented port with a device present (PxSSTS.DET 3) whose signature is an ATA disk.
// Mechanism only, like Hal/VirtioBlock.cs: it puts commands in the port's command slots and takes
// finished ones off; whose request it is, and whether it may be made, is Exo/BlockDevices.cs's.
//
// Memory: the registers (ABAR, BAR 5) through KernelMemory.MapDevice (uncached). Six contiguous
// frames taken at boot, never freed: frame 0 holds the command list (32 headers of 32 bytes), the
// received-FIS area (256 bytes at +1 KiB) and the IDENTIFY buffer (+2 KiB); frames 1..5 hold 32
// command tables of 640 bytes (the 64-byte command FIS, then up to MaximumPagesPerRequest PRDT
// entries at +128). Command slot c always uses table c.
// Commands: READ DMA EXT, WRITE DMA EXT, FLUSH CACHE EXT (48-bit LBA), not queued (no NCQ); several
// may be issued at once and the HBA runs them one after another.
//
// Invariants:
//  - a command slot is free, issued (its PxCI bit set by us, in _issued) or finished (in
//    _finished, _failed when it failed, until TryTakeCompleted hands it back); _requestOf maps a
//    non-free command slot to BlockDevices' request slot;
//  - a command slot's header and table are written only while it is free, and PxCI is written
//    after them (x86 keeps stores in order; the register write is an uncached store);
//  - an error (PxIS.TFES and the other error bits, or PxTFD.ERR when the port is idle) fails
//    every command issued at that moment (the HBA stops at the failed one and cannot say which
//    others had finished) and the port is recovered (stopped, errors cleared, the device reset
//    if it is still busy, started again) before anything new is issued;
//  - every wait on the device is bounded; a port that cannot be recovered is broken and every
//    later command fails at once.
using System.Runtime.CompilerServices;
using Aegis.Abi;

namespace Aegis.Kernel.Hal
{
    internal sealed unsafe class AhciDisk : IBlockController
    {
        // Generic host control registers (from the ABAR).
        private const int RegCapabilities = 0x00, RegGlobalControl = 0x04, RegInterruptStatus = 0x08,
            RegPortsImplemented = 0x0C, RegCapabilities2 = 0x24, RegHandoff = 0x28;
        private const uint CapabilitySupports64Bit = 1u << 31, CapabilityCommandListOverride = 1u << 24,
            CapabilityStaggeredSpinUp = 1u << 27;
        private const uint GlobalAhciEnable = 1u << 31, GlobalInterruptEnable = 1u << 1;
        private const uint Capability2Handoff = 1u << 0;
        private const uint HandoffBiosOwned = 1u << 0, HandoffOsOwned = 1u << 1, HandoffBiosBusy = 1u << 4;

        // Port registers (from 0x100 + 0x80 * port).
        private const int PortCommandList = 0x00, PortCommandListHigh = 0x04, PortFis = 0x08, PortFisHigh = 0x0C,
            PortInterruptStatus = 0x10, PortInterruptEnable = 0x14, PortCommand = 0x18, PortTaskFile = 0x20,
            PortSignature = 0x24, PortSataStatus = 0x28, PortSataControl = 0x2C, PortSataError = 0x30,
            PortCommandIssue = 0x38;
        private const uint CommandStart = 1u << 0, CommandSpinUp = 1u << 1, CommandListOverride = 1u << 3,
            CommandFisReceive = 1u << 4, CommandFisRunning = 1u << 14, CommandListRunning = 1u << 15;
        // PxIS / PxIE bits.
        private const uint InterruptDeviceToHost = 1u << 0, InterruptPioSetup = 1u << 1, InterruptDmaSetup = 1u << 2,
            InterruptSetDeviceBits = 1u << 3, InterruptOverflow = 1u << 24, InterruptInterfaceNonFatal = 1u << 26,
            InterruptInterfaceFatal = 1u << 27, InterruptHostBusData = 1u << 28, InterruptHostBusFatal = 1u << 29,
            InterruptTaskFileError = 1u << 30;
        private const uint ErrorBits = InterruptTaskFileError | InterruptHostBusFatal | InterruptHostBusData
            | InterruptInterfaceFatal | InterruptInterfaceNonFatal | InterruptOverflow;
        private const uint EnabledInterrupts = InterruptDeviceToHost | InterruptPioSetup | InterruptDmaSetup
            | InterruptSetDeviceBits | ErrorBits;
        private const uint TaskFileError = 1u << 0, TaskFileDataRequest = 1u << 3, TaskFileBusy = 1u << 7;
        private const uint SignatureAtaDisk = 0x00000101, SignatureAtapi = 0xEB140101;
        private const uint DetectPresent = 3;

        // ATA commands.
        private const byte AtaReadDmaExt = 0x25, AtaWriteDmaExt = 0x35, AtaFlushCacheExt = 0xEA, AtaIdentify = 0xEC;
        private const byte FisRegisterHostToDevice = 0x27, FisCommandBit = 0x80, DeviceLba = 0x40;

        // The frames' layout.
        private const int Frames = 6;
        private const int FisOffset = 1024, IdentifyOffset = 2048, TablesOffset = 4096;
        private const int TableBytes = 128 + 16 * BlockLimits.MaximumPagesPerRequest; // 640: 128-byte aligned
        private const int MaximumCommandSlots = 32;
        private const int SectorSize = 512;

        private byte* _abar;
        private byte* _port;
        private int _portNumber;
        private bool _supports64Bit, _commandListOverride;
        private int _commandSlots;
        private byte* _memory;
        private ulong _memoryPhysical;
        private string _name;

        private uint _issued, _finished, _failed;
        private uint _errorsSeen;
        private bool _broken;
        private readonly int[] _requestOf = new int[MaximumCommandSlots];

        public ulong Sectors { get; private set; }
        public bool HasFlush { get; private set; }
        public BlockController Kind => BlockController.Ahci;
        public string Name => _name;

        private AhciDisk() { }

        /// <summary>Takes the controller whose registers are at physical abar (abarBytes long), finds
        /// its first ATA disk and starts that port; null (and why) when it will not. Boot only: maps
        /// the registers and takes contiguous frames.</summary>
        public static AhciDisk TryStart(ulong abar, ulong abarBytes, out string problem)
        {
            var disk = new AhciDisk();
            problem = disk.Start(abar, abarBytes);
            return problem == null ? disk : null;
        }

        private string Start(ulong abarPhysical, ulong abarBytes)
        {
            if (abarBytes < 0x180) return "its ABAR is " + abarBytes.ToString() + " bytes (no port registers)";
            _abar = (byte*)KernelMemory.MapDevice(abarPhysical, abarBytes);
            if (_abar == null) return "no page table for its registers";
            if (Read(_abar + RegCapabilities) == 0xFFFFFFFF) return "its registers read all ones";

            // BIOS/OS handoff (AHCI 10.6): ask for ownership, wait for the firmware to let go.
            if ((Read(_abar + RegCapabilities2) & Capability2Handoff) != 0 && (Read(_abar + RegHandoff) & HandoffBiosOwned) != 0)
            {
                Write(_abar + RegHandoff, Read(_abar + RegHandoff) | HandoffOsOwned);
                WaitFor(_abar + RegHandoff, HandoffBiosOwned, 0, 25_000);
                if ((Read(_abar + RegHandoff) & HandoffBiosBusy) != 0) WaitFor(_abar + RegHandoff, HandoffBiosBusy, 0, 2_000_000);
                if ((Read(_abar + RegHandoff) & (HandoffBiosOwned | HandoffBiosBusy)) != 0) return "the firmware did not hand the controller over (BOHC 0x" + Read(_abar + RegHandoff).ToString("x") + ")";
            }
            Write(_abar + RegGlobalControl, Read(_abar + RegGlobalControl) | GlobalAhciEnable);
            uint capabilities = Read(_abar + RegCapabilities);
            _supports64Bit = (capabilities & CapabilitySupports64Bit) != 0;
            _commandListOverride = (capabilities & CapabilityCommandListOverride) != 0;
            _commandSlots = (int)((capabilities >> 8) & 0x1F) + 1;

            if (!KernelMemory.Frames.TryAllocateContiguous(Frames, out ulong first))
                return "no contiguous memory for the command list and tables";
            _memoryPhysical = first * 4096;
            if (!_supports64Bit && _memoryPhysical + Frames * 4096 > 0x100000000UL)
                return "its command list would lie above 4 GiB and it has no 64-bit addressing";
            _memory = (byte*)KernelMemory.PhysicalToVirtual(_memoryPhysical);
            for (int p = 0; p < Frames; p++) Cpu.ZeroPage(_memory + p * 4096);
            for (int c = 0; c < MaximumCommandSlots; c++)
            {
                ulong table = _memoryPhysical + TablesOffset + (ulong)(c * TableBytes);
                uint* header = Header(c);
                header[2] = (uint)table;
                header[3] = (uint)(table >> 32);
                _requestOf[c] = -1;
            }

            // Quiet every implemented port; then take the first with an ATA disk.
            uint implemented = Read(_abar + RegPortsImplemented);
            int ports = (int)((abarBytes - 0x100) / 0x80);
            string why = "no port has an ATA disk (ports implemented 0x" + implemented.ToString("x") + ")";
            uint spinning = 0;
            for (int port = 0; port < 32 && port < ports; port++)
            {
                if ((implemented & (1u << port)) == 0) continue;
                _port = _abar + 0x100 + 0x80 * port;
                Write(_port + PortInterruptEnable, 0);
                if ((capabilities & CapabilityStaggeredSpinUp) != 0 && (Read(_port + PortCommand) & CommandSpinUp) == 0)
                {
                    Write(_port + PortCommand, Read(_port + PortCommand) | CommandSpinUp);
                    spinning |= 1u << port;
                }
            }
            // Ports the firmware left spun down: give their links 100 ms in all to come up.
            ulong spunAt = Cpu.ReadTimestampCounter();
            for (int port = 0; port < 32 && port < ports; port++)
                if ((spinning & (1u << port)) != 0)
                {
                    ulong used = Elapsed(spunAt);
                    if (used < 100_000) WaitFor(_abar + 0x100 + 0x80 * port + PortSataStatus, 0xF, DetectPresent, 100_000 - used);
                }
            for (int port = 0; port < 32 && port < ports; port++)
            {
                if ((implemented & (1u << port)) == 0) continue;
                _port = _abar + 0x100 + 0x80 * port;
                if ((Read(_port + PortSataStatus) & 0xF) != DetectPresent) continue;
                string problem = TryPort(port);
                if (problem == null)
                {
                    _portNumber = port;
                    _name = "AHCI port " + port.ToString();
                    Write(_abar + RegInterruptStatus, 0xFFFFFFFF);
                    Write(_abar + RegGlobalControl, Read(_abar + RegGlobalControl) | GlobalInterruptEnable);
                    return null;
                }
                why = "port " + port.ToString() + ": " + problem;
                Stop(); // leave it idle: the next port reuses the memory
                Write(_port + PortCommand, Read(_port + PortCommand) & ~CommandFisReceive);
                WaitFor(_port + PortCommand, CommandFisRunning, 0, 500_000);
            }
            return why;
        }

        /// <summary>Sets up the port _port points at, checks its signature, IDENTIFYs the disk; null or why not.</summary>
        private string TryPort(int port)
        {
            if (!Stop()) return "it does not stop (PxCMD 0x" + Read(_port + PortCommand).ToString("x") + ")";
            Write(_port + PortCommand, Read(_port + PortCommand) & ~CommandFisReceive);
            if (!WaitFor(_port + PortCommand, CommandFisRunning, 0, 500_000)) return "its FIS receive does not stop";
            Write(_port + PortCommandList, (uint)_memoryPhysical);
            Write(_port + PortCommandListHigh, (uint)(_memoryPhysical >> 32));
            Write(_port + PortFis, (uint)(_memoryPhysical + FisOffset));
            Write(_port + PortFisHigh, (uint)((_memoryPhysical + FisOffset) >> 32));
            Write(_port + PortSataError, 0xFFFFFFFF);
            Write(_port + PortInterruptStatus, 0xFFFFFFFF);
            Write(_port + PortCommand, Read(_port + PortCommand) | CommandFisReceive);
            // The device's first register FIS sets the signature; wait for it to be ready.
            if (!WaitFor(_port + PortTaskFile, TaskFileBusy | TaskFileDataRequest, 0, 1_000_000) && !ResetDevice())
                return "the device stays busy (PxTFD 0x" + Read(_port + PortTaskFile).ToString("x") + ")";
            uint signature = Read(_port + PortSignature);
            if (signature == SignatureAtapi) return "a CD/DVD drive (ATAPI), not a disk";
            if (signature != SignatureAtaDisk) return "not an ATA disk (signature 0x" + signature.ToString("x8") + ")";
            Write(_port + PortSataError, 0xFFFFFFFF);
            Write(_port + PortInterruptStatus, 0xFFFFFFFF);
            Write(_port + PortCommand, Read(_port + PortCommand) | CommandStart);
            string problem = Identify();
            if (problem != null) return problem;
            Write(_port + PortInterruptStatus, 0xFFFFFFFF);
            Write(_port + PortInterruptEnable, EnabledInterrupts);
            return null;
        }

        /// <summary>IDENTIFY DEVICE in command slot 0, polled (2 s at most): the size and FLUSH CACHE EXT.</summary>
        private string Identify()
        {
            byte* buffer = _memory + IdentifyOffset;
            WriteCommand(0, AtaIdentify, 0, 0, false);
            WritePiece(0, 0, _memoryPhysical + IdentifyOffset, SectorSize);
            Header(0)[0] = 5u | (1u << 16);
            Write(_port + PortCommandIssue, 1);
            ulong started = Cpu.ReadTimestampCounter();
            while ((Read(_port + PortCommandIssue) & 1) != 0 && (Read(_port + PortInterruptStatus) & ErrorBits) == 0)
                if (Elapsed(started) > 2_000_000) { Stop(); return "IDENTIFY DEVICE got no answer in 2 s"; }
            uint errors = Read(_port + PortInterruptStatus) & ErrorBits;
            uint taskFile = Read(_port + PortTaskFile);
            if (errors != 0 || (taskFile & TaskFileError) != 0)
            {
                Stop();
                return "IDENTIFY DEVICE failed (PxIS 0x" + errors.ToString("x") + ", PxTFD 0x" + taskFile.ToString("x") + ")";
            }
            ushort* words = (ushort*)buffer;
            bool word83Valid = (words[83] & 0xC000) == 0x4000;
            if (!word83Valid || (words[83] & (1 << 10)) == 0) return "the disk has no 48-bit addressing";
            Sectors = (ulong)words[100] | (ulong)words[101] << 16 | (ulong)words[102] << 32 | (ulong)words[103] << 48;
            HasFlush = (words[83] & (1 << 13)) != 0;
            if (Sectors == 0) return "IDENTIFY DEVICE reports no sectors";
            return null;
        }

        // ---- requests

        public bool TryStart(int slot, BlockOperation operation, ulong sector, ulong* physical, uint* lengths, int count)
        {
            uint free = ~(_issued | _finished);
            if (_commandSlots < 32) free &= (1u << _commandSlots) - 1;
            if (free == 0) return false;
            int c = LowestBit(free);
            uint bit = 1u << c;
            _requestOf[c] = slot;
            if (_broken || !TryWriteRequest(c, operation, sector, physical, lengths, count))
            {
                // Not for this device (a port that could not be recovered, a buffer it cannot reach):
                // the request fails at the next TryTakeCompleted.
                _finished |= bit;
                _failed |= bit;
                return true;
            }
            _issued |= bit;
            Write(_port + PortCommandIssue, bit); // after the header and table: see the invariants
            return true;
        }

        /// <summary>Fills command slot c's header and table; false when the request cannot be put to
        /// this device (too many pieces, an odd or oversized piece, an address it cannot reach, a
        /// length not in whole sectors).</summary>
        private bool TryWriteRequest(int c, BlockOperation operation, ulong sector, ulong* physical, uint* lengths, int count)
        {
            if (operation == BlockOperation.Flush)
            {
                WriteCommand(c, AtaFlushCacheExt, 0, 0, false);
                Header(c)[0] = 5u;
                return true;
            }
            if (count < 1 || count > BlockLimits.MaximumPagesPerRequest) return false;
            ulong bytes = 0;
            for (int i = 0; i < count; i++)
            {
                uint length = lengths[i];
                if (length == 0 || (length & 1) != 0 || length > 4 * 1024 * 1024) return false;
                if (!_supports64Bit && physical[i] + length > 0x100000000UL) return false;
                WritePiece(c, i, physical[i], length);
                bytes += length;
            }
            ulong sectors = bytes / SectorSize;
            if (bytes % SectorSize != 0 || sectors > 65536 || sector + sectors > Sectors) return false;
            bool write = operation == BlockOperation.Write;
            WriteCommand(c, write ? AtaWriteDmaExt : AtaReadDmaExt, sector, (uint)sectors, true);
            Header(c)[0] = 5u | (write ? 1u << 6 : 0) | ((uint)count << 16); // FIS length 5 dwords, direction, PRDT length
            return true;
        }

        /// <summary>The next request finished (its request slot and whether the device did it).</summary>
        public bool TryTakeCompleted(out int slot, out bool succeeded)
        {
            slot = -1; succeeded = false;
            if (_finished == 0) Collect();
            if (_finished == 0) return false;
            int c = LowestBit(_finished);
            uint bit = 1u << c;
            slot = _requestOf[c];
            succeeded = (_failed & bit) == 0;
            _finished &= ~bit;
            _failed &= ~bit;
            _requestOf[c] = -1;
            return true;
        }

        /// <summary>Moves issued commands the HBA finished to _finished; on an error, fails every
        /// issued command and recovers the port.</summary>
        private void Collect()
        {
            if (_issued == 0 && _errorsSeen == 0) return;
            uint issue = Read(_port + PortCommandIssue); // before the status: an error seen after it covers these
            _errorsSeen |= Read(_port + PortInterruptStatus) & ErrorBits;
            uint done = _issued & ~issue;
            bool error = _errorsSeen != 0;
            if (!error && _issued != 0 && done == _issued)
            {
                // Nothing left issued: the last command's ending status is in PxTFD.
                uint taskFile = Read(_port + PortTaskFile);
                error = (taskFile & (TaskFileBusy | TaskFileError)) == TaskFileError;
            }
            if (error)
            {
                _finished |= _issued;
                _failed |= _issued;
                _issued = 0;
                _errorsSeen = 0;
                Recover();
                return;
            }
            _finished |= done;
            _issued &= ~done;
        }

        /// <summary>After an error: stop the port (which clears PxCI), clear its errors, reset the
        /// device if it is still busy, start again. Broken when any of it does not happen in time.</summary>
        private void Recover()
        {
            if (!Stop()) { _broken = true; return; }
            Write(_port + PortSataError, 0xFFFFFFFF);
            Write(_port + PortInterruptStatus, 0xFFFFFFFF);
            Write(_abar + RegInterruptStatus, 1u << _portNumber);
            if ((Read(_port + PortTaskFile) & (TaskFileBusy | TaskFileDataRequest)) != 0)
            {
                bool cleared = false;
                if (_commandListOverride)
                {
                    Write(_port + PortCommand, Read(_port + PortCommand) | CommandListOverride);
                    cleared = WaitFor(_port + PortCommand, CommandListOverride, 0, 500_000)
                        && (Read(_port + PortTaskFile) & (TaskFileBusy | TaskFileDataRequest)) == 0;
                }
                if (!cleared && !ResetDevice()) { _broken = true; return; }
            }
            Write(_port + PortCommand, Read(_port + PortCommand) | CommandStart);
        }

        /// <summary>COMRESET (PxSCTL.DET 1 for at least 1 ms, then 0), then waits for the link and a
        /// ready device (1 s each at most).</summary>
        private bool ResetDevice()
        {
            uint control = Read(_port + PortSataControl) & ~0xFu;
            Write(_port + PortSataControl, control | 1);
            ulong started = Cpu.ReadTimestampCounter();
            while (Elapsed(started) < 2_000) { }
            Write(_port + PortSataControl, control);
            if (!WaitFor(_port + PortSataStatus, 0xF, DetectPresent, 1_000_000)) return false;
            Write(_port + PortSataError, 0xFFFFFFFF);
            return WaitFor(_port + PortTaskFile, TaskFileBusy | TaskFileDataRequest, 0, 1_000_000);
        }

        /// <summary>Clears PxCMD.ST and waits (500 ms at most) for the command list to stop running.</summary>
        private bool Stop()
        {
            Write(_port + PortCommand, Read(_port + PortCommand) & ~CommandStart);
            return WaitFor(_port + PortCommand, CommandListRunning, 0, 500_000);
        }

        /// <summary>Clears the port's interrupt status, then the controller's bit for it (both
        /// write-1-to-clear); error bits are remembered for the next Collect.</summary>
        public void AcknowledgeInterrupt()
        {
            uint status = Read(_port + PortInterruptStatus);
            _errorsSeen |= status & ErrorBits;
            Write(_port + PortInterruptStatus, status);
            Write(_abar + RegInterruptStatus, 1u << _portNumber);
        }

        // ---- the command list and tables

        private uint* Header(int c) => (uint*)(_memory + 32 * c);

        private byte* Table(int c) => _memory + TablesOffset + c * TableBytes;

        /// <summary>Command slot c's FIS: a host-to-device register FIS carrying an ATA command.</summary>
        private void WriteCommand(int c, byte command, ulong lba, uint sectors, bool usesLba)
        {
            byte* fis = Table(c);
            for (int i = 0; i < 20; i++) fis[i] = 0;
            fis[0] = FisRegisterHostToDevice;
            fis[1] = FisCommandBit;
            fis[2] = command;
            fis[4] = (byte)lba; fis[5] = (byte)(lba >> 8); fis[6] = (byte)(lba >> 16);
            fis[7] = usesLba ? DeviceLba : (byte)0;
            fis[8] = (byte)(lba >> 24); fis[9] = (byte)(lba >> 32); fis[10] = (byte)(lba >> 40);
            fis[12] = (byte)sectors; fis[13] = (byte)(sectors >> 8); // 65536 sectors is 0
            Header(c)[1] = 0; // bytes transferred, written by the HBA
        }

        /// <summary>PRDT entry i of command slot c: 'length' bytes at 'physical' (no interrupt per entry).</summary>
        private void WritePiece(int c, int i, ulong physical, uint length)
        {
            uint* entry = (uint*)(Table(c) + 128 + 16 * i);
            entry[0] = (uint)physical;
            entry[1] = (uint)(physical >> 32);
            entry[2] = 0;
            entry[3] = length - 1;
        }

        // ---- registers and time

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static uint Read(byte* register) => *(uint*)register; // not inlined: read afresh at every call

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Write(byte* register, uint value) => *(uint*)register = value;

        /// <summary>Waits until (register &amp; mask) == want, at most 'microseconds'; true when it is.</summary>
        private static bool WaitFor(byte* register, uint mask, uint want, ulong microseconds)
        {
            ulong started = Cpu.ReadTimestampCounter();
            while ((Read(register) & mask) != want)
                if (Elapsed(started) > microseconds) return (Read(register) & mask) == want;
            return true;
        }

        private static ulong Elapsed(ulong started)
        {
            ulong perMicrosecond = Clock.TimestampHz / 1_000_000;
            return (Cpu.ReadTimestampCounter() - started) / (perMicrosecond == 0 ? 1 : perMicrosecond);
        }

        private static int LowestBit(uint value)
        {
            int bit = 0;
            while ((value & 1) == 0) { value >>= 1; bit++; }
            return bit;
        }
    }
}
