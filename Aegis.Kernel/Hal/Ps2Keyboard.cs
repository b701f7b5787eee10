// The PS/2 keyboard behind the i8042 controller (data port 0x60, status/command port 0x64),
// on IRQ 1. The kernel only moves bytes: the scan codes (set 1, which the controller's
// translation produces from the keyboard's set 2) go into the Keyboard input ring as they come;
// what they mean is the libOS's business.
// Initialisation: both ports disabled, the output buffer flushed, the configuration byte set
// (port 1 clock on, translation on, port 2 off, no IRQs while the keyboard is told to scan),
// port 1 enabled, the keyboard told to enable scanning (its ACK consumed), then IRQ 1 enabled.
// Every wait is bounded: a machine without the controller (status reads 0xFF) or with a dead
// one leaves Present false, never hangs. The interrupt handler reads at most a bounded number of
// bytes and allocates nothing; bytes from port 2 (a mouse) are dropped.
using Aegis.Kernel.Core.Exo;

namespace Aegis.Kernel.Hal
{
    internal static class Ps2Keyboard
    {
        private const ushort DataPort = 0x60, StatusPort = 0x64, CommandPort = 0x64;
        private const byte OutputFull = 0x01, InputFull = 0x02, FromPort2 = 0x20;
        private const byte ConfigPort1Interrupt = 0x01, ConfigPort2Interrupt = 0x02, ConfigPort1ClockOff = 0x10,
            ConfigPort2ClockOff = 0x20, ConfigTranslation = 0x40;
        private const int SpinLimit = 100000;

        /// <summary>The controller answered and IRQ 1 is enabled in it.</summary>
        public static bool Present { get; private set; }

        /// <summary>The configuration byte the kernel wrote (for reports and tests).</summary>
        public static byte Configuration { get; private set; }

        private static bool WaitInputEmpty()
        {
            for (int spin = 0; spin < SpinLimit; spin++)
                if ((Cpu.InByte(StatusPort) & InputFull) == 0) return true;
            return false;
        }

        private static bool WaitOutputFull()
        {
            for (int spin = 0; spin < SpinLimit; spin++)
                if ((Cpu.InByte(StatusPort) & OutputFull) != 0) return true;
            return false;
        }

        private static bool Command(byte command)
        {
            if (!WaitInputEmpty()) return false;
            Cpu.OutByte(CommandPort, command);
            return true;
        }

        private static bool WriteData(byte value)
        {
            if (!WaitInputEmpty()) return false;
            Cpu.OutByte(DataPort, value);
            return true;
        }

        private static bool ReadData(out byte value)
        {
            value = 0;
            if (!WaitOutputFull()) return false;
            value = Cpu.InByte(DataPort);
            return true;
        }

        private static void Flush()
        {
            for (int i = 0; i < 64 && (Cpu.InByte(StatusPort) & OutputFull) != 0; i++)
                Cpu.InByte(DataPort);
        }

        /// <summary>Sets the controller up (interrupts still masked at the PIC). False when there is no
        /// working controller.</summary>
        public static bool Initialize()
        {
            Present = false;
            if (Cpu.InByte(StatusPort) == 0xFF) return false; // nothing answers at 0x64
            if (!Command(0xAD) || !Command(0xA7)) return false; // disable port 1, port 2
            Flush();
            if (!Command(0x20) || !ReadData(out byte config)) return false;
            config = (byte)((config | ConfigTranslation | ConfigPort2ClockOff) & ~(ConfigPort1Interrupt | ConfigPort2Interrupt | ConfigPort1ClockOff));
            if (!Command(0x60) || !WriteData(config)) return false;
            if (!Command(0xAE)) return false; // enable port 1
            // Enable scanning (the keyboard's default after reset, but a firmware may have stopped
            // it); the answer (0xFA) is read and dropped. No keyboard plugged in: no answer, fine.
            if (WriteData(0xF4)) ReadData(out _);
            Flush();
            config |= ConfigPort1Interrupt;
            if (!Command(0x60) || !WriteData(config)) return false;
            Configuration = config;
            Present = true;
            return true;
        }

        /// <summary>IRQ 1: moves the waiting bytes into the ring. Returns how many came.</summary>
        public static int OnInterrupt(InputRing ring)
        {
            int taken = 0;
            for (int i = 0; i < 16; i++)
            {
                byte status = Cpu.InByte(StatusPort);
                if ((status & OutputFull) == 0) break;
                // Flow control: with the ring full the byte stays in the controller (which then holds
                // the keyboard's next ones) until Resume makes room; nothing typed is dropped.
                if (ring.IsFull && (status & FromPort2) == 0) { s_throttled = true; break; }
                byte value = Cpu.InByte(DataPort);
                if ((status & FromPort2) != 0) continue; // a mouse byte: not the keyboard's
                ring.Write(value);
                taken++;
            }
            return taken;
        }

        private static bool s_throttled;

        /// <summary>After a reader took bytes from the ring (interrupts off): takes what the
        /// controller held back while the ring was full.</summary>
        public static int Resume(InputRing ring)
        {
            if (!s_throttled) return 0;
            s_throttled = false;
            return OnInterrupt(ring);
        }

        /// <summary>Test support (the protection suite): asks the controller to present 'value' as if
        /// the keyboard had sent it (command 0xD2, "write port 1 output buffer"); it arrives through
        /// IRQ 1 like a key. False when the controller does not take it.</summary>
        public static bool InjectThroughController(byte value)
        {
            if (!Present) return false;
            return Command(0xD2) && WriteData(value);
        }
    }
}
