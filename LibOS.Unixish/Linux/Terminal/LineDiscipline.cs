// The line discipline: what Linux's n_tty does between the terminal's input bytes and a
// program's read, and between a program's write and the terminal's output. Pure logic over
// bytes (no system calls): host-tested by LinuxTerminalLineDisciplineTests.
//
// Input (Receive, one byte at a time, in Linux's order): ISTRIP; the literal-next prefix (^V);
// IXON's stop/start characters (^S/^Q, consumed; IXANY restarts on any byte); ISIG's interrupt,
// quit and suspend characters (^C, ^\, ^Z: the input is flushed unless NOFLSH, the character is
// echoed as ^C, and the signal is queued for TakeSignal); IGNCR/ICRNL/INLCR; then in canonical
// mode (ICANON) the editing characters: erase (VERASE, DEL by default, and also ^H while VERASE
// is DEL: a deliberate addition so a terminal sending ^H for Backspace works; Linux treats ^H as
// data), kill (^U), word erase (^W, with IEXTEN; Linux's rule: trailing non-word characters, then
// one run of letters, digits and '_'), reprint (^R), EOF (^D: ends the line without a character;
// at the start of a line read returns 0), newline, EOL and EOL2 (with IEXTEN). A line holds at
// most 4095 bytes (more is dropped until a line ends, as Linux). In non-canonical mode every byte
// is readable at once (VMIN/VTIME are the reader's policy: TerminalDevice.Read).
// Echo (ECHO) uses ECHOCTL (^X for control characters except tab and newline), ECHOE (erase as
// "\b \b", a tab by as many backspaces as it took), ECHOK/ECHOKE (kill erases visually when both
// and ECHOE are on, else echoes the kill character and, with ECHOK, a newline), ECHONL. ECHOPRT
// (hardcopy erase) is not implemented: with it erase behaves as with ECHOE.
// Output (ProcessOutput and every echo) applies OPOST: ONLCR, OCRNL, ONOCR, ONLRET, OLCUC and
// XTABS, and tracks the column as Linux does (for tab erase).
//
// Invariants: every entry of the ready queue is a data byte (0..255, optionally flagged as a
// line's end) or an end-of-file mark; Delimiters counts the line ends and marks in it; in
// canonical mode the ready queue holds only completed lines (the line being edited is apart),
// so a read never returns part of a line still being edited.
using System;

namespace Aegis.LibOS.Unixish.Linux
{
    /// <summary>A growable byte buffer (echo and processed output, answers to the terminal).</summary>
    public sealed class ByteQueue
    {
        private byte[] _bytes = new byte[256];
        public int Length { get; private set; }

        public void Add(byte b)
        {
            if (Length == _bytes.Length)
            {
                byte[] larger = new byte[_bytes.Length * 2];
                for (int i = 0; i < Length; i++) larger[i] = _bytes[i];
                _bytes = larger;
            }
            _bytes[Length++] = b;
        }

        public void Add(ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++) Add(bytes[i]);
        }

        public void AddAscii(string text)
        {
            for (int i = 0; i < text.Length; i++) Add((byte)text[i]);
        }

        public byte this[int index] => _bytes[index];
        public ReadOnlySpan<byte> Span => new ReadOnlySpan<byte>(_bytes, 0, Length);
        public void Clear() => Length = 0;

        /// <summary>The contents as a string of byte values (tests).</summary>
        public string AsLatin1()
        {
            char[] chars = new char[Length];
            for (int i = 0; i < Length; i++) chars[i] = (char)_bytes[i];
            return new string(chars);
        }
    }

    public static class TerminalSignals
    {
        public const int SIGINT = 2, SIGQUIT = 3, SIGTSTP = 20, SIGWINCH = 28;
    }

    public sealed class LineDiscipline
    {
        /// <summary>Most bytes of one line in canonical mode (Linux: N_TTY_BUF_SIZE - 1).</summary>
        public const int LineCapacity = 4095;
        /// <summary>Most entries the ready queue holds (bytes past it are dropped and counted).</summary>
        public const int ReadyCapacity = 8192;

        private const ushort LineEndFlag = 0x100;
        private const ushort EndOfFileMark = 0x200;

        private Termios _settings = Termios.LinuxDefault();
        private readonly ushort[] _ready = new ushort[ReadyCapacity];
        private int _readyHead, _readyCount;
        private readonly byte[] _line = new byte[LineCapacity];
        private int _lineLength;
        private bool _literalNext;
        private int _column, _lineStartColumn;
        private readonly int[] _signals = new int[8];
        private int _signalCount;

        /// <summary>Echoes and processed output waiting to go to the terminal's screen.</summary>
        public readonly ByteQueue Output = new ByteQueue();

        /// <summary>Line ends and end-of-file marks in the ready queue.</summary>
        public int Delimiters { get; private set; }
        /// <summary>IXON's ^S stopped output (^Q, or any byte with IXANY, restarts it).</summary>
        public bool OutputStopped { get; set; }
        /// <summary>Input bytes dropped because the queue was full.</summary>
        public long Dropped { get; private set; }
        /// <summary>The output column (what tab erase measures from).</summary>
        public int Column => _column;

        public Termios Settings => _settings;
        public bool Canonical => (_settings.LocalFlags & TermiosBits.ICANON) != 0;

        /// <summary>Installs new settings (TCSETS*): leaving canonical mode makes the line being
        /// edited readable; entering it makes what is already readable one completed line.</summary>
        public void SetSettings(Termios settings)
        {
            bool wasCanonical = Canonical;
            _settings = settings.Clone();
            bool nowCanonical = Canonical;
            if (wasCanonical && !nowCanonical)
            {
                for (int i = 0; i < _lineLength; i++) PushReady(_line[i]);
                _lineLength = 0;
                _literalNext = false;
            }
            else if (!wasCanonical && nowCanonical && _readyCount > 0)
            {
                int last = (_readyHead + _readyCount - 1) % ReadyCapacity;
                if ((_ready[last] & (LineEndFlag | EndOfFileMark)) == 0)
                {
                    _ready[last] |= LineEndFlag;
                    Delimiters++;
                }
            }
        }

        private bool Local(uint flag) => (_settings.LocalFlags & flag) != 0;
        private bool InputFlag(uint flag) => (_settings.InputFlags & flag) != 0;
        private bool Is(byte c, int index) => _settings.Cc[index] != 0 && _settings.Cc[index] == c;

        /// <summary>Bytes a read can take now (FIONREAD): completed lines in canonical mode.</summary>
        public int ReadableBytes
        {
            get
            {
                int n = 0;
                for (int i = 0; i < _readyCount; i++)
                    if ((_ready[(_readyHead + i) % ReadyCapacity] & EndOfFileMark) == 0) n++;
                return n;
            }
        }

        /// <summary>Whether a read would return now without waiting (for canonical mode: a line or
        /// end of file is complete; otherwise: at least minimum bytes are there).</summary>
        public bool HasReadable(int minimum)
            => Canonical ? Delimiters > 0 : _readyCount >= (minimum < 1 ? 1 : minimum);

        /// <summary>Bytes in the ready queue (non-canonical availability).</summary>
        public int ReadyCount => _readyCount;

        /// <summary>The bytes of the line being edited (tests, reprint).</summary>
        public int EditingLength => _lineLength;

        /// <summary>Discards all input (TCIFLUSH, a signal character).</summary>
        public void FlushInput()
        {
            _readyHead = 0;
            _readyCount = 0;
            Delimiters = 0;
            _lineLength = 0;
            _literalNext = false;
        }

        /// <summary>The next signal a signal character raised (SIGINT, SIGQUIT, SIGTSTP), or 0.</summary>
        public int TakeSignal()
        {
            if (_signalCount == 0) return 0;
            int signal = _signals[0];
            for (int i = 1; i < _signalCount; i++) _signals[i - 1] = _signals[i];
            _signalCount--;
            return signal;
        }

        public void Receive(ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++) Receive(bytes[i]);
        }

        /// <summary>Processes one input byte from the terminal (keyboard or serial line).</summary>
        public void Receive(byte c)
        {
            if (InputFlag(TermiosBits.ISTRIP)) c &= 0x7F;

            if (_literalNext)
            {
                _literalNext = false;
                // "^\b" was echoed when ^V came: the character's own echo overwrites it.
                Store(c);
                return;
            }

            if (InputFlag(TermiosBits.IXON))
            {
                if (Is(c, TermiosBits.VSTOP)) { OutputStopped = true; return; }
                if (Is(c, TermiosBits.VSTART)) { OutputStopped = false; return; }
                if (OutputStopped && InputFlag(TermiosBits.IXANY)) OutputStopped = false;
            }

            if (Local(TermiosBits.ISIG))
            {
                if (Is(c, TermiosBits.VINTR)) { Signal(TerminalSignals.SIGINT, c); return; }
                if (Is(c, TermiosBits.VQUIT)) { Signal(TerminalSignals.SIGQUIT, c); return; }
                if (Is(c, TermiosBits.VSUSP)) { Signal(TerminalSignals.SIGTSTP, c); return; }
            }

            if (c == (byte)'\r')
            {
                if (InputFlag(TermiosBits.IGNCR)) return;
                if (InputFlag(TermiosBits.ICRNL)) c = (byte)'\n';
            }
            else if (c == (byte)'\n' && InputFlag(TermiosBits.INLCR))
            {
                c = (byte)'\r';
            }

            if (!Canonical)
            {
                if (Local(TermiosBits.ECHO)) EchoChar(c);
                PushReady(c);
                return;
            }

            bool erase = Is(c, TermiosBits.VERASE) || (c == 0x08 && _settings.Cc[TermiosBits.VERASE] == 0x7F);
            if (erase) { Erase(EraseKind.Character); return; }
            if (Is(c, TermiosBits.VKILL)) { Erase(EraseKind.Line); return; }
            if (Local(TermiosBits.IEXTEN))
            {
                if (Is(c, TermiosBits.VWERASE)) { Erase(EraseKind.Word); return; }
                if (Is(c, TermiosBits.VLNEXT))
                {
                    _literalNext = true;
                    if (Local(TermiosBits.ECHO) && Local(TermiosBits.ECHOCTL)) { RawEcho((byte)'^'); RawEcho(0x08); }
                    return;
                }
                if (Is(c, TermiosBits.VREPRINT) && Local(TermiosBits.ECHO)) { Reprint(c); return; }
            }
            if (c == (byte)'\n')
            {
                if (Local(TermiosBits.ECHO) || Local(TermiosBits.ECHONL)) Echo((byte)'\n');
                CompleteLine(c, true);
                return;
            }
            if (Is(c, TermiosBits.VEOF))
            {
                CompleteLine(0, false);
                return;
            }
            if (Is(c, TermiosBits.VEOL) || (Local(TermiosBits.IEXTEN) && Is(c, TermiosBits.VEOL2)))
            {
                if (Local(TermiosBits.ECHO)) EchoChar(c);
                CompleteLine(c, true);
                return;
            }
            Store(c);
        }

        /// <summary>An ordinary byte: into the line being edited (canonical) or the ready queue.</summary>
        private void Store(byte c)
        {
            if (!Canonical)
            {
                if (Local(TermiosBits.ECHO)) EchoChar(c);
                PushReady(c);
                return;
            }
            if (_lineLength >= LineCapacity)
            {
                Dropped++;
                if (Local(TermiosBits.ECHO) && InputFlag(TermiosBits.IMAXBEL)) RawEcho(0x07);
                return;
            }
            if (Local(TermiosBits.ECHO))
            {
                if (_lineLength == 0) _lineStartColumn = _column;
                EchoChar(c);
            }
            _line[_lineLength++] = c;
        }

        private void CompleteLine(byte terminator, bool withTerminator)
        {
            int needed = _lineLength + 1;
            if (ReadyCapacity - _readyCount < needed)
            {
                Dropped += needed;
                _lineLength = 0;
                return;
            }
            for (int i = 0; i < _lineLength; i++) PushReady(_line[i]);
            _lineLength = 0;
            if (withTerminator) PushEntry((ushort)(terminator | LineEndFlag));
            else PushEntry(EndOfFileMark);
            Delimiters++;
        }

        private void PushReady(byte c)
        {
            if (_readyCount >= ReadyCapacity) { Dropped++; return; }
            PushEntry(c);
        }

        private void PushEntry(ushort entry)
        {
            _ready[(_readyHead + _readyCount) % ReadyCapacity] = entry;
            _readyCount++;
        }

        private void Signal(int signal, byte c)
        {
            if (!Local(TermiosBits.NOFLSH)) FlushInput();
            if (InputFlag(TermiosBits.IXON)) OutputStopped = false;
            if (Local(TermiosBits.ECHO)) EchoChar(c);
            if (_signalCount < _signals.Length) _signals[_signalCount++] = signal;
        }

        private enum EraseKind { Character, Word, Line }

        private static bool IsControl(byte c) => c < 0x20 || c == 0x7F;
        private bool IsContinuation(byte c) => (c & 0xC0) == 0x80 && InputFlag(TermiosBits.IUTF8);
        private static bool IsWordByte(byte c)
            => (c >= (byte)'a' && c <= (byte)'z') || (c >= (byte)'A' && c <= (byte)'Z') || (c >= (byte)'0' && c <= (byte)'9') || c == (byte)'_';

        private void Erase(EraseKind kind)
        {
            if (_lineLength == 0) return;
            bool echo = Local(TermiosBits.ECHO);
            if (kind == EraseKind.Line)
            {
                if (!echo) { _lineLength = 0; return; }
                if (!Local(TermiosBits.ECHOK) || !Local(TermiosBits.ECHOKE) || !Local(TermiosBits.ECHOE))
                {
                    _lineLength = 0;
                    EchoChar(_settings.Cc[TermiosBits.VKILL]);
                    if (Local(TermiosBits.ECHOK)) Echo((byte)'\n');
                    return;
                }
            }
            int seenWord = 0;
            while (_lineLength > 0)
            {
                // One character: with IUTF8 a lead byte and its continuation bytes.
                int start = _lineLength - 1;
                while (start > 0 && IsContinuation(_line[start])) start--;
                byte c = _line[start];
                if (kind == EraseKind.Word)
                {
                    if (IsWordByte(c)) seenWord++;
                    else if (seenWord > 0) break;
                }
                _lineLength = start;
                if (echo)
                {
                    if (kind == EraseKind.Character && !Local(TermiosBits.ECHOE))
                    {
                        EchoChar(_settings.Cc[TermiosBits.VERASE]);
                    }
                    else if (c == (byte)'\t')
                    {
                        int back = _column - ColumnAfterLine();
                        for (int i = 0; i < back; i++) Echo(0x08);
                    }
                    else
                    {
                        int cells = IsControl(c) ? (Local(TermiosBits.ECHOCTL) ? 2 : 0) : 1;
                        for (int i = 0; i < cells; i++) { Echo(0x08); Echo((byte)' '); Echo(0x08); }
                    }
                }
                if (kind == EraseKind.Character) break;
            }
        }

        /// <summary>The column where the echo of the line being edited ends (for tab erase).</summary>
        private int ColumnAfterLine()
        {
            int column = _lineStartColumn;
            for (int i = 0; i < _lineLength; i++)
            {
                byte c = _line[i];
                if (c == (byte)'\t') column = (column | 7) + 1;
                else if (IsControl(c)) { if (Local(TermiosBits.ECHOCTL)) column += 2; }
                else if (!IsContinuation(c)) column++;
            }
            return column;
        }

        private void Reprint(byte c)
        {
            EchoChar(c);
            Echo((byte)'\n');
            _lineStartColumn = _column;
            for (int i = 0; i < _lineLength; i++) EchoChar(_line[i]);
        }

        /// <summary>Echoes an input byte: control characters as ^X under ECHOCTL (not tab, newline).</summary>
        private void EchoChar(byte c)
        {
            if (Local(TermiosBits.ECHOCTL) && IsControl(c) && c != (byte)'\t' && c != (byte)'\n')
            {
                Echo((byte)'^');
                Echo((byte)(c ^ 0x40));
                return;
            }
            Echo(c);
        }

        private void Echo(byte c) => ProcessOutput(c, Output);

        /// <summary>Echo without output processing but with column tracking (^V's "^\b").</summary>
        private void RawEcho(byte c)
        {
            if (c == 0x08) { if (_column > 0) _column--; }
            else if (!IsControl(c)) _column++;
            Output.Add(c);
        }

        /// <summary>A program's write: OPOST processing into sink.</summary>
        public void ProcessOutput(ReadOnlySpan<byte> bytes, ByteQueue sink)
        {
            for (int i = 0; i < bytes.Length; i++) ProcessOutput(bytes[i], sink);
        }

        public void ProcessOutput(byte c, ByteQueue sink)
        {
            uint o = _settings.OutputFlags;
            if ((o & TermiosBits.OPOST) == 0)
            {
                sink.Add(c);
                return;
            }
            switch (c)
            {
                case (byte)'\n':
                    if ((o & TermiosBits.ONLRET) != 0) _column = 0;
                    if ((o & TermiosBits.ONLCR) != 0)
                    {
                        _column = 0;
                        sink.Add((byte)'\r');
                    }
                    sink.Add(c);
                    return;
                case (byte)'\r':
                    if ((o & TermiosBits.ONOCR) != 0 && _column == 0) return;
                    if ((o & TermiosBits.OCRNL) != 0)
                    {
                        if ((o & TermiosBits.ONLRET) != 0) _column = 0;
                        sink.Add((byte)'\n');
                        return;
                    }
                    _column = 0;
                    sink.Add(c);
                    return;
                case (byte)'\t':
                    {
                        int spaces = 8 - (_column & 7);
                        if ((o & TermiosBits.TABDLY) == TermiosBits.XTABS)
                        {
                            _column += spaces;
                            for (int i = 0; i < spaces; i++) sink.Add((byte)' ');
                            return;
                        }
                        _column += spaces;
                        sink.Add(c);
                        return;
                    }
                case 0x08:
                    if (_column > 0) _column--;
                    sink.Add(c);
                    return;
                default:
                    if (!IsControl(c))
                    {
                        if ((o & TermiosBits.OLCUC) != 0 && c >= (byte)'a' && c <= (byte)'z') c = (byte)(c - 32);
                        if ((c & 0xC0) != 0x80 || !InputFlag(TermiosBits.IUTF8)) _column++;
                    }
                    sink.Add(c);
                    return;
            }
        }

        /// <summary>Canonical read: copies at most one line (its terminator included) into buffer.
        /// -1 when no line is complete (the caller waits); 0 at end of file (^D at a line's start).</summary>
        public int ReadCanonical(Span<byte> buffer)
        {
            if (Delimiters == 0) return -1;
            int copied = 0;
            while (_readyCount > 0)
            {
                ushort entry = _ready[_readyHead];
                if ((entry & EndOfFileMark) != 0)
                {
                    Consume();
                    Delimiters--;
                    return copied;
                }
                if (copied == buffer.Length) return copied;
                buffer[copied++] = (byte)entry;
                Consume();
                if ((entry & LineEndFlag) != 0)
                {
                    Delimiters--;
                    return copied;
                }
            }
            return copied;
        }

        /// <summary>Non-canonical read: copies what is there, at most buffer.Length bytes.</summary>
        public int ReadRaw(Span<byte> buffer)
        {
            int copied = 0;
            while (_readyCount > 0 && copied < buffer.Length)
            {
                ushort entry = _ready[_readyHead];
                Consume();
                if ((entry & (LineEndFlag | EndOfFileMark)) != 0) Delimiters--;
                if ((entry & EndOfFileMark) != 0) continue;
                buffer[copied++] = (byte)entry;
            }
            return copied;
        }

        private void Consume()
        {
            _readyHead = (_readyHead + 1) % ReadyCapacity;
            _readyCount--;
        }
    }
}
