// A VT100/xterm-subset terminal emulator over a text-mode cell array: what the VGA console
// shows. Pure logic (bytes in, cells out): host-tested by LinuxTerminalVtScreenTests.
//
// A cell is a VGA text cell: the code page 437 glyph in the low byte, the attribute (background
// << 4 | foreground) in the high byte. Input is UTF-8 (ill-formed sequences and characters code
// page 437 lacks show as '?'). Understood: printable text with xterm's pending wrap (DECAWM,
// ?7h/l), CR, LF/VT/FF (a line feed; the tty's ONLCR supplies the CR), BS, HT (stops every 8),
// BEL (ignored), SO/SI with G0/G1 = ASCII or DEC line drawing (ESC ( 0, ESC ( B);
// ESC 7/8 (save/restore cursor and attributes), ESC D (index), ESC E (next line), ESC M
// (reverse index), ESC c (reset); CSI sequences: CUU A, CUD B, CUF C, CUB D, CNL E, CPL F, CHA G
// and `, CUP H and f, ED J 0/1/2/3, EL K 0/1/2, IL L, DL M, ICH @, DCH P, ECH X, SU S, SD T,
// VPA d, VPR e, HPR a, SGR m (0, 1 bold, 22, 7 reverse, 27, 30-37, 39, 40-47, 49, 90-97,
// 100-107, 38/48;5;n for the 16 basic colours; other attributes accepted and ignored), DECSTBM r,
// save/restore s/u, DSR n (5: "ESC[0n", 6: the cursor position report "ESC[row;colR") and DA c
// ("ESC[?6c") answered into Responses (the terminal feeds them to the input queue), modes
// ?25 (cursor visible), ?7 (autowrap), ?6 (origin), ?1 (application cursor keys), ?1049/?1047/?47
// (alternate screen), 4 (insert). OSC and DCS strings are consumed and ignored. Other sequences
// are consumed without effect (never shown as text).
//
// The hardware cursor is the kernel's, so the cursor is shown by inverting its cell's attribute
// when the screen is rendered (Render), not in Cells.
//
// Invariants: 0 <= Row < Rows, 0 <= Column < Columns; 0 <= Top < Bottom < Rows; Cells always
// holds Rows * Columns cells; nothing in the input can make a write go outside it.
using System;

namespace Aegis.LibOS.Unixish.Linux
{
    public sealed class VtScreen
    {
        public readonly int Rows;
        public readonly int Columns;
        public readonly ushort[] Cells;
        private ushort[] _savedMainScreen;

        public int Row { get; private set; }
        public int Column { get; private set; }
        public bool CursorVisible { get; private set; } = true;
        public bool ApplicationCursorKeys { get; private set; }
        public int Top { get; private set; }
        public int Bottom { get; private set; }
        /// <summary>Set by every change to Cells or the cursor; cleared by the renderer.</summary>
        public bool Dirty { get; set; } = true;
        /// <summary>Answers to the program (cursor position reports, device attributes).</summary>
        public readonly ByteQueue Responses = new ByteQueue();

        private bool _wrapPending, _autowrap = true, _originMode, _insertMode, _alternate;
        private int _foreground = 7, _background = 0;
        private bool _bold, _reverse;
        private bool _g0Graphics, _g1Graphics, _shifted;

        private struct SavedCursor
        {
            public int Row, Column, Foreground, Background;
            public bool Bold, Reverse, WrapPending, OriginMode, G0Graphics;
        }
        private SavedCursor _saved;
        private SavedCursor _savedForAlternate;

        private enum State { Ground, Escape, EscapeSkipOne, Charset, Csi, String, StringEscape }
        private State _state;
        private int _charsetTarget;
        private readonly int[] _params = new int[16];
        private int _paramCount;
        private bool _paramStarted;
        private byte _private;
        private byte _intermediate;

        private int _utf8Remaining, _utf8CodePoint, _utf8Minimum;

        // ANSI colour number (black red green yellow blue magenta cyan white) -> VGA colour.
        private static readonly byte[] s_vgaColor = { 0, 4, 2, 6, 1, 5, 3, 7 };

        public VtScreen(int rows = 25, int columns = 80)
        {
            if (rows < 2 || columns < 2) throw new ArgumentOutOfRangeException(nameof(rows));
            Rows = rows;
            Columns = columns;
            Cells = new ushort[rows * columns];
            Reset();
        }

        /// <summary>The current attribute byte (colours, bold, reverse).</summary>
        public byte Attribute
        {
            get
            {
                int fg = s_vgaColor[_foreground & 7] | ((_bold || _foreground >= 8) ? 8 : 0);
                int bg = s_vgaColor[_background & 7];
                if (_reverse) { int t = fg; fg = bg; bg = t & 7; }
                return (byte)((bg << 4) | fg);
            }
        }

        private ushort Blank => (ushort)((Attribute << 8) | ' ');

        public void Reset()
        {
            _foreground = 7; _background = 0; _bold = false; _reverse = false;
            _wrapPending = false; _autowrap = true; _originMode = false; _insertMode = false;
            _g0Graphics = false; _g1Graphics = false; _shifted = false;
            CursorVisible = true; ApplicationCursorKeys = false;
            Top = 0; Bottom = Rows - 1;
            Row = 0; Column = 0;
            _state = State.Ground;
            _utf8Remaining = 0;
            _saved = default;
            _saved.Foreground = 7;
            ushort blank = Blank;
            for (int i = 0; i < Cells.Length; i++) Cells[i] = blank;
            Dirty = true;
        }

        /// <summary>The glyph (code page 437) at a position.</summary>
        public byte GlyphAt(int row, int column) => (byte)Cells[row * Columns + column];
        public byte AttributeAt(int row, int column) => (byte)(Cells[row * Columns + column] >> 8);

        /// <summary>A row's glyphs as text (code page 437 bytes as chars; tests and dumps).</summary>
        public string RowText(int row)
        {
            char[] chars = new char[Columns];
            for (int c = 0; c < Columns; c++) chars[c] = (char)GlyphAt(row, c);
            return new string(chars);
        }

        /// <summary>The cells as the display shows them: the cursor's cell inverted when visible.</summary>
        public void Render(Span<ushort> display)
        {
            for (int i = 0; i < Cells.Length; i++) display[i] = Cells[i];
            if (CursorVisible)
            {
                int at = Row * Columns + Column;
                ushort cell = Cells[at];
                int attribute = cell >> 8;
                int inverted = ((attribute & 0x0F) << 4 | (attribute >> 4)) & 0x7F;
                display[at] = (ushort)((inverted << 8) | (cell & 0xFF));
            }
            Dirty = false;
        }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++) Write(bytes[i]);
        }

        public void Write(byte b)
        {
            Dirty = true;
            switch (_state)
            {
                case State.Ground:
                    Ground(b);
                    return;
                case State.Escape:
                    EscapeByte(b);
                    return;
                case State.EscapeSkipOne:
                    _state = State.Ground;
                    return;
                case State.Charset:
                    if (_charsetTarget == 0) _g0Graphics = b == (byte)'0';
                    else _g1Graphics = b == (byte)'0';
                    _state = State.Ground;
                    return;
                case State.Csi:
                    CsiByte(b);
                    return;
                case State.String:
                    if (b == 0x07) _state = State.Ground;
                    else if (b == 0x1B) _state = State.StringEscape;
                    else if (b == 0x18 || b == 0x1A) _state = State.Ground;
                    return;
                case State.StringEscape:
                    _state = b == (byte)'\\' ? State.Ground : State.String;
                    return;
            }
        }

        private void Ground(byte b)
        {
            if (_utf8Remaining > 0)
            {
                if ((b & 0xC0) == 0x80)
                {
                    _utf8CodePoint = (_utf8CodePoint << 6) | (b & 0x3F);
                    if (--_utf8Remaining == 0)
                    {
                        int cp = _utf8CodePoint;
                        bool bad = cp < _utf8Minimum || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF);
                        Print(bad ? (byte)'?' : CodePage437.FromUnicode(cp));
                    }
                    return;
                }
                _utf8Remaining = 0;
                Print((byte)'?');
                // fall through: b starts something new
            }
            if (b < 0x20 || b == 0x7F)
            {
                Control(b);
                return;
            }
            if (b < 0x80)
            {
                bool graphics = _shifted ? _g1Graphics : _g0Graphics;
                Print(graphics ? CodePage437.FromDecGraphics(b) : b);
                return;
            }
            if ((b & 0xE0) == 0xC0) { _utf8Remaining = 1; _utf8CodePoint = b & 0x1F; _utf8Minimum = 0x80; return; }
            if ((b & 0xF0) == 0xE0) { _utf8Remaining = 2; _utf8CodePoint = b & 0x0F; _utf8Minimum = 0x800; return; }
            if ((b & 0xF8) == 0xF0) { _utf8Remaining = 3; _utf8CodePoint = b & 0x07; _utf8Minimum = 0x10000; return; }
            Print((byte)'?');
        }

        private void Control(byte b)
        {
            switch (b)
            {
                case 0x07: return;
                case 0x08:
                    if (Column > 0) Column--;
                    _wrapPending = false;
                    return;
                case 0x09:
                    {
                        int next = (Column / 8 + 1) * 8;
                        Column = next >= Columns ? Columns - 1 : next;
                        _wrapPending = false;
                        return;
                    }
                case 0x0A: case 0x0B: case 0x0C:
                    LineFeed();
                    return;
                case 0x0D:
                    Column = 0;
                    _wrapPending = false;
                    return;
                case 0x0E: _shifted = true; return;
                case 0x0F: _shifted = false; return;
                case 0x1B:
                    _state = State.Escape;
                    return;
            }
        }

        private void Print(byte glyph)
        {
            if (_wrapPending)
            {
                _wrapPending = false;
                if (_autowrap)
                {
                    Column = 0;
                    LineFeed();
                }
            }
            int at = Row * Columns + Column;
            if (_insertMode)
            {
                int lineEnd = Row * Columns + Columns - 1;
                for (int i = lineEnd; i > at; i--) Cells[i] = Cells[i - 1];
            }
            Cells[at] = (ushort)((Attribute << 8) | glyph);
            if (Column == Columns - 1) _wrapPending = _autowrap;
            else Column++;
        }

        private void LineFeed()
        {
            _wrapPending = false;
            if (Row == Bottom) ScrollUp(Top, Bottom, 1);
            else if (Row < Rows - 1) Row++;
        }

        private void ReverseIndex()
        {
            _wrapPending = false;
            if (Row == Top) ScrollDown(Top, Bottom, 1);
            else if (Row > 0) Row--;
        }

        private void ScrollUp(int top, int bottom, int count)
        {
            int lines = bottom - top + 1;
            if (count > lines) count = lines;
            for (int r = top; r <= bottom - count; r++) CopyRow(r + count, r);
            for (int r = bottom - count + 1; r <= bottom; r++) ClearCells(r * Columns, Columns);
        }

        private void ScrollDown(int top, int bottom, int count)
        {
            int lines = bottom - top + 1;
            if (count > lines) count = lines;
            for (int r = bottom; r >= top + count; r--) CopyRow(r - count, r);
            for (int r = top; r < top + count; r++) ClearCells(r * Columns, Columns);
        }

        private void CopyRow(int from, int to)
        {
            int f = from * Columns, t = to * Columns;
            for (int c = 0; c < Columns; c++) Cells[t + c] = Cells[f + c];
        }

        private void ClearCells(int start, int count)
        {
            ushort blank = Blank;
            int end = start + count;
            if (start < 0) start = 0;
            if (end > Cells.Length) end = Cells.Length;
            for (int i = start; i < end; i++) Cells[i] = blank;
        }

        private void EscapeByte(byte b)
        {
            _state = State.Ground;
            switch (b)
            {
                case (byte)'[':
                    _state = State.Csi;
                    _paramCount = 0;
                    _paramStarted = false;
                    _private = 0;
                    _intermediate = 0;
                    for (int i = 0; i < _params.Length; i++) _params[i] = 0;
                    return;
                case (byte)']': case (byte)'P': case (byte)'X': case (byte)'^': case (byte)'_':
                    _state = State.String;
                    return;
                case (byte)'(': _charsetTarget = 0; _state = State.Charset; return;
                case (byte)')': _charsetTarget = 1; _state = State.Charset; return;
                case (byte)'*': case (byte)'+': case (byte)'#': case (byte)'%': case (byte)' ':
                    _state = State.EscapeSkipOne;
                    return;
                case (byte)'7': SaveCursor(); return;
                case (byte)'8': RestoreCursor(); return;
                case (byte)'D': LineFeed(); return;
                case (byte)'E': Column = 0; LineFeed(); return;
                case (byte)'M': ReverseIndex(); return;
                case (byte)'c': Reset(); return;
                case 0x1B: _state = State.Escape; return;
            }
            // ESC H (tab set), ESC = / ESC > (keypad modes) and others: no effect here.
        }

        private void CsiByte(byte b)
        {
            if (b >= (byte)'0' && b <= (byte)'9')
            {
                if (_paramCount == 0) _paramCount = 1;
                int i = _paramCount - 1;
                if (_params[i] < 10000) _params[i] = _params[i] * 10 + (b - '0');
                _paramStarted = true;
                return;
            }
            if (b == (byte)';' || b == (byte)':')
            {
                if (_paramCount == 0) _paramCount = 1;
                if (_paramCount < _params.Length) _paramCount++;
                _paramStarted = true;
                return;
            }
            if (b >= 0x3C && b <= 0x3F)
            {
                if (!_paramStarted) _private = b;
                return;
            }
            if (b >= 0x20 && b <= 0x2F) { _intermediate = b; return; }
            if (b >= 0x40 && b <= 0x7E)
            {
                _state = State.Ground;
                if (_intermediate == 0) Execute(b);
                return;
            }
            if (b == 0x1B) { _state = State.Escape; return; }
            if (b == 0x18 || b == 0x1A) { _state = State.Ground; return; }
            if (b < 0x20) { Control(b); return; }
            // DEL and bytes >= 0x80 inside a sequence: ignored.
        }

        private int Param(int index, int defaultValue)
        {
            int v = index < _paramCount ? _params[index] : 0;
            return v == 0 ? defaultValue : v;
        }

        private void Execute(byte final)
        {
            if (_private == (byte)'?')
            {
                if (final == (byte)'h' || final == (byte)'l') { PrivateModes(final == (byte)'h'); }
                return;
            }
            if (_private != 0)
            {
                // CSI > c (secondary attributes) and the like: no answer.
                return;
            }
            int n = Param(0, 1);
            switch (final)
            {
                case (byte)'@': InsertCharacters(n); break;
                case (byte)'A': MoveUp(n); break;
                case (byte)'B': case (byte)'e': MoveDown(n); break;
                case (byte)'C': case (byte)'a': SetColumn(Column + n); break;
                case (byte)'D': SetColumn(Column - n); break;
                case (byte)'E': MoveDown(n); Column = 0; break;
                case (byte)'F': MoveUp(n); Column = 0; break;
                case (byte)'G': case (byte)'`': SetColumn(n - 1); break;
                case (byte)'H': case (byte)'f': CursorPosition(Param(0, 1), Param(1, 1)); break;
                case (byte)'J': EraseDisplay(Param(0, 0)); break;
                case (byte)'K': EraseLine(Param(0, 0)); break;
                case (byte)'L': InsertLines(n); break;
                case (byte)'M': DeleteLines(n); break;
                case (byte)'P': DeleteCharacters(n); break;
                case (byte)'X': EraseCharacters(n); break;
                case (byte)'S': ScrollUp(Top, Bottom, n); break;
                case (byte)'T': if (_paramCount <= 1) ScrollDown(Top, Bottom, n); break;
                case (byte)'d': CursorPosition(n, Column + 1); break;
                case (byte)'m': SelectGraphicRendition(); break;
                case (byte)'r': SetScrollRegion(Param(0, 1), Param(1, Rows)); break;
                case (byte)'s': SaveCursor(); break;
                case (byte)'u': RestoreCursor(); break;
                case (byte)'h': if (Param(0, 0) == 4) _insertMode = true; break;
                case (byte)'l': if (Param(0, 0) == 4) _insertMode = false; break;
                case (byte)'n': DeviceStatus(Param(0, 0)); break;
                case (byte)'c': if (Param(0, 0) == 0) Responses.AddAscii("\x1b[?6c"); break;
            }
        }

        private void PrivateModes(bool set)
        {
            for (int i = 0; i < (_paramCount == 0 ? 1 : _paramCount); i++)
            {
                switch (_params[i])
                {
                    case 1: ApplicationCursorKeys = set; break;
                    case 6: _originMode = set; CursorPosition(1, 1); break;
                    case 7: _autowrap = set; if (!set) _wrapPending = false; break;
                    case 25: CursorVisible = set; break;
                    case 47: case 1047: AlternateScreen(set, false); break;
                    case 1049: AlternateScreen(set, true); break;
                }
            }
        }

        private void AlternateScreen(bool enter, bool saveCursor)
        {
            if (enter == _alternate) return;
            if (enter)
            {
                if (saveCursor) _savedForAlternate = Capture();
                _savedMainScreen = new ushort[Cells.Length];
                for (int i = 0; i < Cells.Length; i++) _savedMainScreen[i] = Cells[i];
                ClearCells(0, Cells.Length);
                _alternate = true;
            }
            else
            {
                if (_savedMainScreen != null)
                    for (int i = 0; i < Cells.Length; i++) Cells[i] = _savedMainScreen[i];
                _savedMainScreen = null;
                _alternate = false;
                if (saveCursor) Apply(_savedForAlternate);
            }
        }

        private void MoveUp(int n)
        {
            int limit = Row >= Top ? Top : 0;
            Row = Row - n < limit ? limit : Row - n;
            _wrapPending = false;
        }

        private void MoveDown(int n)
        {
            int limit = Row <= Bottom ? Bottom : Rows - 1;
            Row = Row + n > limit ? limit : Row + n;
            _wrapPending = false;
        }

        private void SetColumn(int column)
        {
            Column = column < 0 ? 0 : column >= Columns ? Columns - 1 : column;
            _wrapPending = false;
        }

        private void CursorPosition(int row, int column)
        {
            int r = row - 1 + (_originMode ? Top : 0);
            int maxRow = _originMode ? Bottom : Rows - 1;
            int minRow = _originMode ? Top : 0;
            Row = r < minRow ? minRow : r > maxRow ? maxRow : r;
            SetColumn(column - 1);
        }

        private void EraseDisplay(int mode)
        {
            int at = Row * Columns + Column;
            switch (mode)
            {
                case 0: ClearCells(at, Cells.Length - at); break;
                case 1: ClearCells(0, at + 1); break;
                case 2: case 3: ClearCells(0, Cells.Length); break;
            }
            _wrapPending = false;
        }

        private void EraseLine(int mode)
        {
            int start = Row * Columns;
            switch (mode)
            {
                case 0: ClearCells(start + Column, Columns - Column); break;
                case 1: ClearCells(start, Column + 1); break;
                case 2: ClearCells(start, Columns); break;
            }
            _wrapPending = false;
        }

        private void InsertLines(int n)
        {
            if (Row < Top || Row > Bottom) return;
            ScrollDown(Row, Bottom, n);
            Column = 0;
            _wrapPending = false;
        }

        private void DeleteLines(int n)
        {
            if (Row < Top || Row > Bottom) return;
            ScrollUp(Row, Bottom, n);
            Column = 0;
            _wrapPending = false;
        }

        private void InsertCharacters(int n)
        {
            int left = Columns - Column;
            if (n > left) n = left;
            int start = Row * Columns + Column, end = Row * Columns + Columns;
            for (int i = end - 1; i >= start + n; i--) Cells[i] = Cells[i - n];
            ClearCells(start, n);
            _wrapPending = false;
        }

        private void DeleteCharacters(int n)
        {
            int left = Columns - Column;
            if (n > left) n = left;
            int start = Row * Columns + Column, end = Row * Columns + Columns;
            for (int i = start; i < end - n; i++) Cells[i] = Cells[i + n];
            ClearCells(end - n, n);
            _wrapPending = false;
        }

        private void EraseCharacters(int n)
        {
            int left = Columns - Column;
            if (n > left) n = left;
            ClearCells(Row * Columns + Column, n);
            _wrapPending = false;
        }

        private void SetScrollRegion(int top, int bottom)
        {
            if (bottom > Rows) bottom = Rows;
            if (top < bottom)
            {
                Top = top - 1;
                Bottom = bottom - 1;
                CursorPosition(1, 1);
            }
        }

        private void DeviceStatus(int request)
        {
            if (request == 5) Responses.AddAscii("\x1b[0n");
            else if (request == 6)
            {
                int row = Row + 1 - (_originMode ? Top : 0);
                Responses.AddAscii("\x1b[" + row.ToString() + ";" + (Column + 1).ToString() + "R");
            }
        }

        private void SelectGraphicRendition()
        {
            int count = _paramCount == 0 ? 1 : _paramCount;
            for (int i = 0; i < count; i++)
            {
                int p = _params[i];
                if (p == 0) { _foreground = 7; _background = 0; _bold = false; _reverse = false; }
                else if (p == 1) _bold = true;
                else if (p == 21 || p == 22) _bold = false;
                else if (p == 7) _reverse = true;
                else if (p == 27) _reverse = false;
                else if (p >= 30 && p <= 37) _foreground = p - 30;
                else if (p == 39) _foreground = 7;
                else if (p >= 40 && p <= 47) _background = p - 40;
                else if (p == 49) _background = 0;
                else if (p >= 90 && p <= 97) _foreground = p - 90 + 8;
                else if (p >= 100 && p <= 107) _background = p - 100;
                else if (p == 38 || p == 48)
                {
                    // 38;5;n / 48;5;n (the 16 basic colours are shown; others are skipped),
                    // 38;2;r;g;b / 48;2;r;g;b (skipped).
                    if (i + 1 < count && _params[i + 1] == 5 && i + 2 < count)
                    {
                        int colour = _params[i + 2];
                        if (colour < 16)
                        {
                            if (p == 38) _foreground = colour; else _background = colour & 7;
                        }
                        i += 2;
                    }
                    else if (i + 1 < count && _params[i + 1] == 2) i += 4;
                    else i = count;
                }
                // 2, 3, 4, 5, 8, 9 and their resets: accepted, not shown by a VGA text cell.
            }
        }

        private SavedCursor Capture() => new SavedCursor
        {
            Row = Row, Column = Column, Foreground = _foreground, Background = _background,
            Bold = _bold, Reverse = _reverse, WrapPending = _wrapPending, OriginMode = _originMode,
            G0Graphics = _g0Graphics,
        };

        private void Apply(SavedCursor s)
        {
            Row = s.Row < Rows ? s.Row : Rows - 1;
            Column = s.Column < Columns ? s.Column : Columns - 1;
            _foreground = s.Foreground; _background = s.Background;
            _bold = s.Bold; _reverse = s.Reverse; _wrapPending = s.WrapPending;
            _originMode = s.OriginMode; _g0Graphics = s.G0Graphics;
        }

        /// <summary>Bytes SaveState writes (every field but the parser's mid-sequence state).</summary>
        public const int StateSize = 4 * 40;

        /// <summary>Writes the emulator's state (cursor, modes, attributes, margins, saved cursors)
        /// so another process's emulator can continue the same screen (LoadState). The cells and an
        /// alternate screen's saved main screen are apart (Cells, SavedMainScreen).</summary>
        public void SaveState(Span<byte> state)
        {
            int i = 0;
            Put(state, ref i, Row); Put(state, ref i, Column); Put(state, ref i, CursorVisible ? 1 : 0);
            Put(state, ref i, ApplicationCursorKeys ? 1 : 0); Put(state, ref i, Top); Put(state, ref i, Bottom);
            Put(state, ref i, _wrapPending ? 1 : 0); Put(state, ref i, _autowrap ? 1 : 0); Put(state, ref i, _originMode ? 1 : 0);
            Put(state, ref i, _insertMode ? 1 : 0); Put(state, ref i, _alternate ? 1 : 0); Put(state, ref i, _foreground);
            Put(state, ref i, _background); Put(state, ref i, _bold ? 1 : 0); Put(state, ref i, _reverse ? 1 : 0);
            Put(state, ref i, _g0Graphics ? 1 : 0); Put(state, ref i, _g1Graphics ? 1 : 0); Put(state, ref i, _shifted ? 1 : 0);
            PutSaved(state, ref i, _saved);
            PutSaved(state, ref i, _savedForAlternate);
        }

        /// <summary>Reads what SaveState wrote; values out of range are clamped (the state lives in
        /// memory other processes can write: it must never move the cursor outside the cells).</summary>
        public void LoadState(ReadOnlySpan<byte> state)
        {
            int i = 0;
            Row = Clamp(Get(state, ref i), 0, Rows - 1); Column = Clamp(Get(state, ref i), 0, Columns - 1);
            CursorVisible = Get(state, ref i) != 0; ApplicationCursorKeys = Get(state, ref i) != 0;
            int top = Clamp(Get(state, ref i), 0, Rows - 1), bottom = Clamp(Get(state, ref i), 0, Rows - 1);
            if (top < bottom) { Top = top; Bottom = bottom; } else { Top = 0; Bottom = Rows - 1; }
            _wrapPending = Get(state, ref i) != 0; _autowrap = Get(state, ref i) != 0; _originMode = Get(state, ref i) != 0;
            _insertMode = Get(state, ref i) != 0; _alternate = Get(state, ref i) != 0; _foreground = Clamp(Get(state, ref i), 0, 15);
            _background = Clamp(Get(state, ref i), 0, 7); _bold = Get(state, ref i) != 0; _reverse = Get(state, ref i) != 0;
            _g0Graphics = Get(state, ref i) != 0; _g1Graphics = Get(state, ref i) != 0; _shifted = Get(state, ref i) != 0;
            _saved = GetSaved(state, ref i);
            _savedForAlternate = GetSaved(state, ref i);
            _state = State.Ground;
            _utf8Remaining = 0;
            Dirty = true;
        }

        /// <summary>While the alternate screen is on: the main screen's cells it hides (else null).</summary>
        public ushort[] SavedMainScreen
        {
            get => _savedMainScreen;
            set => _savedMainScreen = value != null && value.Length == Cells.Length ? value : null;
        }

        public bool AlternateScreenActive => _alternate;

        private static int Clamp(int v, int low, int high) => v < low ? low : v > high ? high : v;

        private static void Put(Span<byte> b, ref int i, int v)
        {
            b[i] = (byte)v; b[i + 1] = (byte)(v >> 8); b[i + 2] = (byte)(v >> 16); b[i + 3] = (byte)(v >> 24);
            i += 4;
        }

        private static int Get(ReadOnlySpan<byte> b, ref int i)
        {
            int v = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
            i += 4;
            return v;
        }

        private static void PutSaved(Span<byte> b, ref int i, SavedCursor s)
        {
            Put(b, ref i, s.Row); Put(b, ref i, s.Column); Put(b, ref i, s.Foreground); Put(b, ref i, s.Background);
            Put(b, ref i, (s.Bold ? 1 : 0) | (s.Reverse ? 2 : 0) | (s.WrapPending ? 4 : 0) | (s.OriginMode ? 8 : 0) | (s.G0Graphics ? 16 : 0));
        }

        private SavedCursor GetSaved(ReadOnlySpan<byte> b, ref int i)
        {
            var s = new SavedCursor
            {
                Row = Clamp(Get(b, ref i), 0, Rows - 1),
                Column = Clamp(Get(b, ref i), 0, Columns - 1),
                Foreground = Clamp(Get(b, ref i), 0, 15),
                Background = Clamp(Get(b, ref i), 0, 7),
            };
            int flags = Get(b, ref i);
            s.Bold = (flags & 1) != 0; s.Reverse = (flags & 2) != 0; s.WrapPending = (flags & 4) != 0;
            s.OriginMode = (flags & 8) != 0; s.G0Graphics = (flags & 16) != 0;
            return s;
        }

        /// <summary>Takes over a screen someone else drew (the kernel's boot console): the cells
        /// as they are, the cursor at the start of the line after the last one with text.</summary>
        public void Adopt(ReadOnlySpan<ushort> cells)
        {
            Reset();
            int last = -1;
            for (int r = 0; r < Rows; r++)
                for (int c = 0; c < Columns; c++)
                {
                    ushort cell = cells[r * Columns + c];
                    Cells[r * Columns + c] = cell;
                    byte glyph = (byte)cell;
                    if (glyph != (byte)' ' && glyph != 0) last = r;
                }
            Column = 0;
            if (last + 1 < Rows) Row = last + 1;
            else { Row = Rows - 1; ScrollUp(0, Rows - 1, 1); }
        }

        private void SaveCursor() => _saved = Capture();
        private void RestoreCursor() => Apply(_saved);
    }

    /// <summary>Unicode to the VGA's code page 437 glyphs.</summary>
    public static class CodePage437
    {
        // The glyphs of bytes 0x80..0xFF.
        private const string High =
            "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»" +
            "░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀" +
            "αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00A0";

        /// <summary>The code page 437 byte for a code point; '?' when it has none.</summary>
        public static byte FromUnicode(int codePoint)
        {
            if (codePoint >= 0x20 && codePoint < 0x7F) return (byte)codePoint;
            if (codePoint < 0x10000)
            {
                for (int i = 0; i < High.Length; i++)
                    if (High[i] == codePoint) return (byte)(0x80 + i);
                switch (codePoint)
                {
                    case 0x2022: return 0x07; // •
                    case 0x25C6: case 0x2666: return 0x04; // ◆ ♦
                    case 0x2191: return 0x18; // ↑
                    case 0x2193: return 0x19; // ↓
                    case 0x2192: return 0x1A; // →
                    case 0x2190: return 0x1B; // ←
                    case 0x03B2: return 0xE1; // β as ß
                }
            }
            return (byte)'?';
        }

        /// <summary>DEC special graphics (ESC ( 0): line drawing for the bytes 0x5F..0x7E.</summary>
        public static byte FromDecGraphics(byte b)
        {
            switch ((char)b)
            {
                case '`': return 0x04;
                case 'a': return 0xB1;
                case 'f': return 0xF8;
                case 'g': return 0xF1;
                case 'j': return 0xD9;
                case 'k': return 0xBF;
                case 'l': return 0xDA;
                case 'm': return 0xC0;
                case 'n': return 0xC5;
                case 'q': return 0xC4;
                case 't': return 0xC3;
                case 'u': return 0xB4;
                case 'v': return 0xC1;
                case 'w': return 0xC2;
                case 'x': return 0xB3;
                case 'y': return 0xF3;
                case 'z': return 0xF2;
                case '~': return 0xFA;
            }
            return b;
        }
    }
}
