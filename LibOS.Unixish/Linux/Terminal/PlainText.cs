// Terminal output reduced to what the kernel's ConsoleWrite passes unchanged (printable text,
// newline, tab, UTF-8): escape sequences (CSI, OSC/DCS strings, two-byte escapes), carriage
// returns, backspaces and other controls are dropped. The terminal uses it for the serial line
// only while it has no raw way to COM1 (the kernel turns every control byte of ConsoleWrite into
// '?', so "\r\n" would print as "?\n" and a colour change as "?[7m"). Pure: host-tested
// (LinuxTerminalPlainTextTests).
// Invariant: the state carries a sequence cut between two writes; output never holds a byte
// below 0x20 other than '\n' and '\t', nor DEL.
using System;

namespace Aegis.LibOS.Unixish.Linux
{
    public sealed class PlainTextFilter
    {
        private enum State { Text, Escape, Csi, String, StringEscape }
        private State _state;

        public void Filter(ReadOnlySpan<byte> bytes, ByteQueue output)
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                byte b = bytes[i];
                switch (_state)
                {
                    case State.Text:
                        if (b == 0x1B) _state = State.Escape;
                        else if (b == (byte)'\n' || b == (byte)'\t' || (b >= 0x20 && b != 0x7F)) output.Add(b);
                        break;
                    case State.Escape:
                        if (b == (byte)'[') _state = State.Csi;
                        else if (b == (byte)']' || b == (byte)'P' || b == (byte)'X' || b == (byte)'^' || b == (byte)'_') _state = State.String;
                        else if (b >= 0x20 && b <= 0x2F) { /* intermediate (ESC ( 0): the next byte ends it */ }
                        else _state = State.Text;
                        break;
                    case State.Csi:
                        if (b >= 0x40 && b <= 0x7E) _state = State.Text;
                        else if (b == 0x1B) _state = State.Escape;
                        else if (b == 0x18 || b == 0x1A) _state = State.Text;
                        break;
                    case State.String:
                        if (b == 0x07 || b == 0x18 || b == 0x1A) _state = State.Text;
                        else if (b == 0x1B) _state = State.StringEscape;
                        break;
                    case State.StringEscape:
                        _state = b == (byte)'\\' ? State.Text : State.String;
                        break;
                }
            }
        }
    }
}
