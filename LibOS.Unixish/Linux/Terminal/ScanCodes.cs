// PS/2 keyboard scan codes (set 1, what the i8042 hands over with translation on, as QEMU and
// VMware present it) to the bytes a Linux console sends for them, US layout. Pure logic over
// bytes: host-tested by LinuxTerminalScanCodeTests.
//
// Make codes 0x01..0x58, the break (release) code is make | 0x80; 0xE0 prefixes an extended key
// (right Ctrl/Alt, the navigation block, keypad Enter and '/'); 0xE1 starts Pause's six-byte
// sequence (skipped). Translation follows the Linux console's default keymap: Enter sends CR,
// Backspace DEL, Tab, Esc; Shift and Caps Lock (letters only; Shift inverts it); Ctrl + letter or
// @ [ \ ] ^ _ and space gives the control byte; Alt (either) sends ESC before the key's bytes (the
// console's meta-as-escape); arrows ESC [ A/B/C/D; Home ESC[1~, Insert ESC[2~, Delete ESC[3~,
// End ESC[4~, Page Up ESC[5~, Page Down ESC[6~ (arrows ESC O A..D while the screen asked for
// application cursor keys, ESC[?1h); F1..F5 ESC[[A..E, F6..F12 ESC[17~ .. ESC[24~;
// the keypad gives digits with Num Lock on (off at start, as on Linux) and the navigation keys
// with it off; keypad * - + / and Enter always their characters. Releases only change modifier
// state; the lock keys toggle on their press.
//
// Invariant: Translate writes at most MaximumOutput bytes; unknown codes produce nothing.
using System;

namespace Aegis.LibOS.Unixish.Linux
{
    public sealed class ScanCodeTranslator
    {
        /// <summary>The most bytes one scan code produces (ESC + "ESC[24~").</summary>
        public const int MaximumOutput = 8;

        // Unshifted and shifted characters of the main block, indexed by make code (0: none).
        private const string Plain =
            "\0\x1b" + "1234567890-=" + "\x7f\t" + "qwertyuiop[]" + "\r\0" + "asdfghjkl;'`" + "\0\\" + "zxcvbnm,./" + "\0*\0 ";
        private const string Shifted =
            "\0\x1b" + "!@#$%^&*()_+" + "\x7f\t" + "QWERTYUIOP{}" + "\r\0" + "ASDFGHJKL:\"~" + "\0|" + "ZXCVBNM<>?" + "\0*\0 ";

        private bool _leftShift, _rightShift, _leftCtrl, _rightCtrl, _leftAlt, _rightAlt;
        private bool _extended;
        private int _pauseBytesLeft;

        /// <summary>DECCKM (the screen's ESC[?1h): arrows send ESC O A..D instead of ESC [ A..D.</summary>
        public bool ApplicationCursorKeys { get; set; }

        public bool CapsLock { get; private set; }
        public bool NumLock { get; private set; }
        public bool ScrollLock { get; private set; }
        public bool Shift => _leftShift || _rightShift;
        public bool Ctrl => _leftCtrl || _rightCtrl;
        public bool Alt => _leftAlt || _rightAlt;

        /// <summary>Takes other's whole state (modifiers, locks, a pending prefix): a copy that can
        /// look ahead at bytes without changing other.</summary>
        public void CopyFrom(ScanCodeTranslator other)
        {
            _leftShift = other._leftShift; _rightShift = other._rightShift;
            _leftCtrl = other._leftCtrl; _rightCtrl = other._rightCtrl;
            _leftAlt = other._leftAlt; _rightAlt = other._rightAlt;
            _extended = other._extended;
            _pauseBytesLeft = other._pauseBytesLeft;
            ApplicationCursorKeys = other.ApplicationCursorKeys;
            CapsLock = other.CapsLock; NumLock = other.NumLock; ScrollLock = other.ScrollLock;
        }

        /// <summary>Forgets which keys are held and any pending prefix (the locks stay): for bytes
        /// that follow ones someone else translated.</summary>
        public void ReleaseModifiers()
        {
            _leftShift = _rightShift = _leftCtrl = _rightCtrl = _leftAlt = _rightAlt = false;
            _extended = false;
            _pauseBytesLeft = 0;
        }

        /// <summary>Feeds one scan-code byte; writes the bytes it produces into output (at least
        /// MaximumOutput long) and returns their count (0 for prefixes, releases, modifiers).</summary>
        public int Translate(byte code, Span<byte> output)
        {
            if (_pauseBytesLeft > 0) { _pauseBytesLeft--; return 0; }
            if (code == 0xE1) { _pauseBytesLeft = 5; _extended = false; return 0; }
            if (code == 0xE0) { _extended = true; return 0; }
            // 0xFA (ack), 0xFE (resend), 0x00/0xFF (errors), 0xAA (self-test passed) are not keys;
            // 0xAA after 0xE0 is a fake-shift release and is ignored below too.
            if (code == 0xFA || code == 0xFE || code == 0xFF || code == 0x00) { _extended = false; return 0; }

            bool extended = _extended;
            _extended = false;
            bool release = (code & 0x80) != 0;
            int make = code & 0x7F;

            if (extended)
            {
                switch (make)
                {
                    case 0x1D: _rightCtrl = !release; return 0;
                    case 0x38: _rightAlt = !release; return 0;
                    case 0x2A: case 0x36: return 0; // fake shifts around the navigation keys
                }
                if (release) return 0;
                return Extended(make, output);
            }

            switch (make)
            {
                case 0x2A: _leftShift = !release; return 0;
                case 0x36: _rightShift = !release; return 0;
                case 0x1D: _leftCtrl = !release; return 0;
                case 0x38: _leftAlt = !release; return 0;
            }
            if (release) return 0;
            switch (make)
            {
                case 0x3A: CapsLock = !CapsLock; return 0;
                case 0x45: NumLock = !NumLock; return 0;
                case 0x46: ScrollLock = !ScrollLock; return 0;
            }
            if (make >= 0x3B && make <= 0x44) return Function(make - 0x3B + 1, output);
            if (make == 0x57) return Function(11, output);
            if (make == 0x58) return Function(12, output);
            if (make >= 0x47 && make <= 0x53) return Keypad(make, output);
            if (make < Plain.Length)
            {
                char plain = Plain[make];
                if (plain == '\0') return 0;
                return Character(plain, Shifted[make], output);
            }
            return 0;
        }

        private int Character(char plain, char shifted, Span<byte> output)
        {
            bool isLetter = plain >= 'a' && plain <= 'z';
            bool upper = isLetter ? Shift != CapsLock : Shift;
            char c = upper ? shifted : plain;
            int n = 0;
            if (Alt) output[n++] = 0x1B;
            if (Ctrl)
            {
                int control = ControlByte(plain, c);
                if (control >= 0) { output[n++] = (byte)control; return n; }
            }
            output[n++] = (byte)c;
            return n;
        }

        /// <summary>Ctrl + key: the control byte, or -1 when the key has none (the key's own byte).</summary>
        private static int ControlByte(char plain, char c)
        {
            if (plain >= 'a' && plain <= 'z') return plain - 'a' + 1;
            switch (c)
            {
                case '@': case '2': case ' ': return 0x00;
                case '[': case '{': case '3': return 0x1B;
                case '\\': case '|': case '4': return 0x1C;
                case ']': case '}': case '5': return 0x1D;
                case '^': case '6': case '~': case '`': return 0x1E;
                case '_': case '-': case '/': case '?': case '7': return 0x1F;
                case '8': return 0x7F;
            }
            return -1;
        }

        private int Extended(int make, Span<byte> output)
        {
            switch (make)
            {
                case 0x1C: return Put("\r", output);
                case 0x35: return Put("/", output);
                case 0x48: return Arrow('A', output);
                case 0x50: return Arrow('B', output);
                case 0x4D: return Arrow('C', output);
                case 0x4B: return Arrow('D', output);
                case 0x47: return Put("\x1b[1~", output);
                case 0x52: return Put("\x1b[2~", output);
                case 0x53: return Put("\x1b[3~", output);
                case 0x4F: return Put("\x1b[4~", output);
                case 0x49: return Put("\x1b[5~", output);
                case 0x51: return Put("\x1b[6~", output);
            }
            return 0;
        }

        private int Keypad(int make, Span<byte> output)
        {
            switch (make)
            {
                case 0x4A: return Put("-", output);
                case 0x4E: return Put("+", output);
            }
            if (NumLock)
            {
                const string digits = "789-456+1230.";
                int n = 0;
                if (Alt) output[n++] = 0x1B;
                output[n++] = (byte)digits[make - 0x47];
                return n;
            }
            switch (make)
            {
                case 0x47: return Put("\x1b[1~", output);
                case 0x48: return Arrow('A', output);
                case 0x49: return Put("\x1b[5~", output);
                case 0x4B: return Arrow('D', output);
                case 0x4C: return Put("\x1b[G", output);
                case 0x4D: return Arrow('C', output);
                case 0x4F: return Put("\x1b[4~", output);
                case 0x50: return Arrow('B', output);
                case 0x51: return Put("\x1b[6~", output);
                case 0x52: return Put("\x1b[2~", output);
                case 0x53: return Put("\x1b[3~", output);
            }
            return 0;
        }

        private int Arrow(char direction, Span<byte> output)
        {
            int n = 0;
            if (Alt) output[n++] = 0x1B;
            output[n++] = 0x1B;
            output[n++] = ApplicationCursorKeys ? (byte)'O' : (byte)'[';
            output[n++] = (byte)direction;
            return n;
        }

        private int Function(int number, Span<byte> output)
        {
            if (number <= 5) return Put("\x1b[[" + (char)('A' + number - 1), output);
            string[] codes = { "17", "18", "19", "20", "21", "23", "24" };
            return Put("\x1b[" + codes[number - 6] + "~", output);
        }

        private int Put(string text, Span<byte> output)
        {
            int n = 0;
            if (Alt) output[n++] = 0x1B;
            for (int i = 0; i < text.Length; i++) output[n++] = (byte)text[i];
            return n;
        }
    }
}
