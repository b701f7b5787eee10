// One terminal (tty) as the Linux personality serves it: the line discipline, the keyboard's
// scan-code translation, the window size, the controlling session and foreground process group,
// the termios ioctls and the read policy (canonical lines, VMIN/VTIME). Pure logic: everything
// that touches the machine goes through ITerminalPort (input devices, waiting, the clock, the
// displays) and IProgramMemory (the program's ioctl arguments), so host tests drive it with
// fakes (LinuxTerminalDeviceTests); Terminal.cs plugs in the Aegis ones.
//
// Read (Linux's n_tty_read): canonical mode returns one line (or what fits), 0 for ^D at a
// line's start; non-canonical mode follows VMIN/VTIME (MIN 0 TIME 0: what is there, maybe 0;
// MIN 0 TIME t: the first byte or 0 after t tenths of a second; MIN m TIME 0: at least
// min(m, length) bytes; MIN m TIME t: m bytes, or what came once t tenths passed without a new
// byte after the first). nonBlocking: -EAGAIN instead of waiting (in non-canonical mode what is
// there, if anything, is returned). A wait ends with -EINTR when InterruptPending says a signal
// arrived (the signal code restarts or not); before a read waits, InsteadOfWaiting may end it with
// its own result (the Linux personality lets another thread run and makes the read again later).
// Signals: ^C/^\/^Z go to SignalHook(signal, foreground process group); while the hook is null
// they still flush the input and echo (as on Linux) and are counted in UndeliveredSignals; they
// are not acted on (no process is ended by the terminal itself).
//
// Every operation runs between the port's Enter and Leave, so a port can share the control
// state (settings, window size, session, foreground group) between processes.
// Invariants: the port is only called from Read/Write/Ioctl/Pump (no callbacks of its own);
// echo output is sent to the port in the order the input arrived, before any later write.
using System;

namespace Aegis.LibOS.Unixish.Linux
{
    /// <summary>The machine side of a terminal.</summary>
    public interface ITerminalPort
    {
        /// <summary>Hands input bytes that arrived since the last call to device.ReceiveKeyboard /
        /// ReceiveSerial; true when any came. want 0: only the bytes up to the last control
        /// character (signal characters with ISIG, VSTOP and VSTART with IXON), which act on
        /// arrival. Otherwise, in canonical mode up to a line (none while one is ready), and
        /// outside it until the discipline holds 'want' bytes ready (int.MaxValue: everything).
        /// What it leaves stays for the terminal's next reader, as in a Linux tty, whose bytes no
        /// process owns until it reads them.</summary>
        bool Pump(TerminalDevice device, int want);

        /// <summary>Whether input a read outside canonical mode would take is waiting (a byte),
        /// without taking it.</summary>
        bool InputWaiting(TerminalDevice device);

        /// <summary>Blocks until input may have arrived (then the caller pumps) or, when deadline is not
        /// ulong.MaxValue, until NowMilliseconds reaches it. False when no input can ever arrive (no
        /// input device): the caller then treats the terminal as at end of input.</summary>
        bool Wait(ulong deadline);

        /// <summary>A clock in milliseconds (for VTIME).</summary>
        ulong NowMilliseconds { get; }

        /// <summary>Sends processed output to the displays (serial, the VGA console).</summary>
        void Display(ReadOnlySpan<byte> bytes);

        /// <summary>Called when an operation starts: the port may load the terminal's control state
        /// (settings, window size, session, foreground group) other processes changed.</summary>
        void Enter(TerminalDevice device);

        /// <summary>Called when an operation ends: the port may publish what this one changed.</summary>
        void Leave(TerminalDevice device);
    }

    /// <summary>The program's memory, for ioctl arguments (false: not accessible, EFAULT).</summary>
    public interface IProgramMemory
    {
        bool CopyIn(ulong address, Span<byte> destination);
        bool CopyOut(ulong address, ReadOnlySpan<byte> source);
    }

    /// <summary>Who is calling (for the controlling-terminal ioctls).</summary>
    public struct TerminalCaller
    {
        public int ProcessId, ProcessGroup, Session;
    }

    public delegate void TerminalSignalHook(int signal, int processGroup);

    public static class TerminalIoctls
    {
        public const uint TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404;
        public const uint TCSBRK = 0x5409, TCXONC = 0x540A, TCFLSH = 0x540B, TIOCEXCL = 0x540C, TIOCNXCL = 0x540D;
        public const uint TIOCSCTTY = 0x540E, TIOCGPGRP = 0x540F, TIOCSPGRP = 0x5410, TIOCOUTQ = 0x5411;
        public const uint TIOCSTI = 0x5412, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, FIONREAD = 0x541B;
        public const uint TIOCNOTTY = 0x5422, TIOCSETD = 0x5423, TIOCGETD = 0x5424, TCSBRKP = 0x5425;
        public const uint TIOCGSID = 0x5429;
        public const uint TCGETS2 = 0x802C542A, TCSETS2 = 0x402C542B, TCSETSW2 = 0x402C542C, TCSETSF2 = 0x402C542D;
        /// <summary>struct termios2: termios plus c_ispeed and c_ospeed (u32 each).</summary>
        public const int Termios2Size = 44;
        /// <summary>The speed termios2 reports (B38400's).</summary>
        public const uint Speed = 38400;
    }

    public sealed class TerminalDevice
    {
        public readonly LineDiscipline Discipline = new LineDiscipline();
        public readonly ScanCodeTranslator Keyboard = new ScanCodeTranslator();
        private readonly ITerminalPort _port;
        private readonly ByteQueue _processed = new ByteQueue();
        private readonly byte[] _keyBytes = new byte[ScanCodeTranslator.MaximumOutput];

        /// <summary>Rows and columns (TIOCGWINSZ): the VGA's 80x25 or, on serial only, 80x24, until
        /// TIOCSWINSZ sets them.</summary>
        public WindowSize Size;

        /// <summary>The session whose controlling terminal this is (0: none yet).</summary>
        public int Session;
        /// <summary>The foreground process group (what ^C signals; TIOCGPGRP/TIOCSPGRP).</summary>
        public int ForegroundGroup;
        /// <summary>TIOCEXCL's exclusive mode (kept; no second opener exists to refuse).</summary>
        public bool Exclusive;

        /// <summary>Delivers a terminal signal to a process group (the signal work sets it).</summary>
        public TerminalSignalHook SignalHook;
        /// <summary>Whether the calling process has a signal to handle (ends a wait with -EINTR).</summary>
        public Func<bool> InterruptPending;
        /// <summary>Asked before a read waits for input (nothing consumed yet): nonzero is the read's
        /// result instead (the Linux personality: -ERESTART_THREAD when another of the process's
        /// threads can run; the read is made again when this thread next runs). Null: always wait.</summary>
        public Func<long> InsteadOfWaiting;
        /// <summary>Who is calling (the process work sets it); null: CallerDefault.</summary>
        public Func<TerminalCaller> Caller;
        public TerminalCaller CallerDefault;
        /// <summary>Whether a process group exists in a session (TIOCSPGRP's EPERM); null: any.</summary>
        public Func<int, int, bool> GroupInSession;
        /// <summary>Signals raised while SignalHook was null.</summary>
        public long UndeliveredSignals;
        /// <summary>Answers the terminal itself sends back (a cursor position report) are fed here.</summary>
        public long ResponsesFed;

        public TerminalDevice(ITerminalPort port, int rows, int columns)
        {
            _port = port;
            Size.Rows = (ushort)rows;
            Size.Columns = (ushort)columns;
        }

        private TerminalCaller CurrentCaller => Caller != null ? Caller() : CallerDefault;

        // ---- control state shared between processes ----

        /// <summary>Bytes SaveControl writes: session, foreground group, window size, termios,
        /// whether output is stopped.</summary>
        public const int ControlStateSize = 64;

        /// <summary>Writes the control state (what every process using this terminal must agree on).</summary>
        public void SaveControl(Span<byte> state)
        {
            state.Slice(0, ControlStateSize).Clear();
            Termios.PutU32(state, 0, (uint)Session);
            Termios.PutU32(state, 4, (uint)ForegroundGroup);
            Size.Encode(state.Slice(8));
            Discipline.Settings.Encode(state.Slice(16));
            state[52] = Discipline.OutputStopped ? (byte)1 : (byte)0;
        }

        /// <summary>Takes the control state another process saved. Settings are installed only
        /// when they differ (installing runs the canonical/raw switch rules).</summary>
        public void LoadControl(ReadOnlySpan<byte> state)
        {
            Session = (int)Termios.GetU32(state, 0);
            ForegroundGroup = (int)Termios.GetU32(state, 4);
            Size = WindowSize.Decode(state.Slice(8));
            Span<byte> current = stackalloc byte[Termios.Size];
            Discipline.Settings.Encode(current);
            ReadOnlySpan<byte> saved = state.Slice(16, Termios.Size);
            if (!saved.SequenceEqual(current)) Discipline.SetSettings(Termios.Decode(saved));
            Discipline.OutputStopped = state[52] != 0;
        }

        // ---- input ----

        /// <summary>Bytes from the serial line (as they are).</summary>
        public void ReceiveSerial(ReadOnlySpan<byte> bytes)
        {
            Discipline.Receive(bytes);
            AfterInput();
        }

        /// <summary>Scan codes from the keyboard (set 1).</summary>
        public void ReceiveKeyboard(ReadOnlySpan<byte> scanCodes)
        {
            for (int i = 0; i < scanCodes.Length; i++)
            {
                int n = Keyboard.Translate(scanCodes[i], _keyBytes);
                for (int k = 0; k < n; k++) Discipline.Receive(_keyBytes[k]);
            }
            AfterInput();
        }

        /// <summary>Bytes the terminal answers with (VT100 reports), as input.</summary>
        public void ReceiveResponse(ReadOnlySpan<byte> bytes)
        {
            ResponsesFed += bytes.Length;
            Discipline.Receive(bytes);
            AfterInput();
        }

        /// <summary>Sends pending echoes and raises pending signals.</summary>
        private void AfterInput()
        {
            FlushEcho();
            int signal;
            while ((signal = Discipline.TakeSignal()) != 0) Raise(signal);
        }

        private void FlushEcho()
        {
            if (Discipline.Output.Length == 0) return;
            _port.Display(Discipline.Output.Span);
            Discipline.Output.Clear();
        }

        private void Raise(int signal)
        {
            TerminalSignalHook hook = SignalHook;
            if (hook != null && ForegroundGroup > 0) hook(signal, ForegroundGroup);
            else UndeliveredSignals++;
        }

        /// <summary>Moves arrived input into the line discipline (echo, signals) without reading:
        /// a line in canonical mode, otherwise until 'want' bytes are ready, and with want 0 only
        /// the control characters (ITerminalPort.Pump). A reader wants its buffer's length; poll
        /// a line in canonical mode and otherwise 0 (it looks at the rest without taking it); a
        /// writer and a process blocked elsewhere 0 (^C, ^S and ^Q still act); FIONREAD
        /// everything. What a process takes is its own: a shell's line editor reads a byte at a
        /// time, and what it took beyond them was lost to the command it started (a paste of
        /// "cat > f", its lines and ^D gave cat nothing); a background job's write took the
        /// shell's next typed line.</summary>
        public bool Pump(int want)
        {
            try { _port.Enter(this); return _port.Pump(this, want); }
            finally { _port.Leave(this); }
        }

        /// <summary>Pump for a process blocked elsewhere (wait4, nanosleep): only a member of the
        /// foreground group takes the input (a background process would take bytes the
        /// foreground job should read); true when input came.</summary>
        public bool PumpIfForeground()
        {
            try
            {
                _port.Enter(this);
                if (!IsForeground(CurrentCaller)) return false;
                return _port.Pump(this, 0);
            }
            finally { _port.Leave(this); }
        }

        /// <summary>Whether the caller may take input: no foreground group yet, another session's
        /// terminal (not its controlling one: Linux would not stop it either), or its group is in front.</summary>
        public bool IsForeground(TerminalCaller caller)
            => Session == 0 || ForegroundGroup == 0 || caller.Session != Session || caller.ProcessGroup == ForegroundGroup;

        // ---- read ----

        public long Read(Span<byte> buffer, bool nonBlocking)
        {
            try { _port.Enter(this); return ReadCore(buffer, nonBlocking); }
            finally { _port.Leave(this); }
        }

        private long ReadCore(Span<byte> buffer, bool nonBlocking)
        {
            if (buffer.Length == 0) return 0;
            // The first reader's session takes a terminal that has none (Linux: the session
            // leader's open), so ^C has a foreground group to go to.
            if (Session == 0) IsControlling(CurrentCaller);
            int want = buffer.Length;
            Pump(want);
            if (Discipline.Canonical)
            {
                while (true)
                {
                    int n = Discipline.ReadCanonical(buffer);
                    if (n >= 0) return n;
                    if (nonBlocking) return -Errno.EAGAIN;
                    long waited = WaitForInput(ulong.MaxValue, want, true);
                    if (waited < 0) return waited;
                    if (waited == 0) return 0;
                }
            }

            int minimum = Discipline.Settings.Cc[TermiosBits.VMIN];
            ulong time = (ulong)Discipline.Settings.Cc[TermiosBits.VTIME] * 100;
            if (minimum > buffer.Length) minimum = buffer.Length;
            if (minimum == 0 && time == 0) return Discipline.ReadRaw(buffer);

            if (minimum == 0)
            {
                ulong deadline = _port.NowMilliseconds + time;
                while (Discipline.ReadyCount == 0)
                {
                    if (nonBlocking) return -Errno.EAGAIN;
                    if (_port.NowMilliseconds >= deadline) return 0;
                    long waited = WaitForInput(deadline, want, true);
                    if (waited < 0) return waited;
                    if (waited == 0) return 0;
                }
                return Discipline.ReadRaw(buffer);
            }

            ulong interByteDeadline = ulong.MaxValue;
            int seen = Discipline.ReadyCount;
            if (seen > 0 && time > 0) interByteDeadline = _port.NowMilliseconds + time;
            while (Discipline.ReadyCount < minimum)
            {
                if (nonBlocking)
                    return Discipline.ReadyCount > 0 ? Discipline.ReadRaw(buffer) : -Errno.EAGAIN;
                if (time > 0 && Discipline.ReadyCount > 0 && _port.NowMilliseconds >= interByteDeadline) break;
                long waited = WaitForInput(time > 0 && Discipline.ReadyCount > 0 ? interByteDeadline : ulong.MaxValue, want, true);
                if (waited < 0) return waited;
                if (waited == 0) break;
                if (Discipline.ReadyCount != seen)
                {
                    seen = Discipline.ReadyCount;
                    if (time > 0) interByteDeadline = _port.NowMilliseconds + time;
                }
            }
            return Discipline.ReadRaw(buffer);
        }

        /// <summary>One wait for input: 1 (pumped until 'want' bytes are ready; look again), 0 (no
        /// input can come), -EINTR. A reader may let another thread run instead.</summary>
        private long WaitForInput(ulong deadline, int want, bool reading)
        {
            if (InterruptPending != null && InterruptPending()) return -Errno.EINTR;
            if (reading && InsteadOfWaiting != null)
            {
                long instead = InsteadOfWaiting();
                if (instead != 0) return instead;
            }
            if (!_port.Wait(deadline)) return 0;
            Pump(want);
            if (InterruptPending != null && InterruptPending()) return -Errno.EINTR;
            return 1;
        }

        /// <summary>Whether a read would not block now (poll's POLLIN).</summary>
        public bool PollReadable()
        {
            try { _port.Enter(this); return PollReadableCore(); }
            finally { _port.Leave(this); }
        }

        /// <summary>poll's look. Canonical mode takes the line being typed (so it is echoed as it
        /// is typed, as for a reader: `nc` polls its terminal). Otherwise it takes no input but
        /// control characters (which act when they come) and looks at the rest without taking it:
        /// a program that polls and then ends must leave the keys typed behind for the next reader.</summary>
        private bool PollReadableCore()
        {
            if (Discipline.Canonical)
            {
                Pump(1);
                return Discipline.Delimiters > 0;
            }
            Pump(0);
            int minimum = Discipline.Settings.Cc[TermiosBits.VMIN];
            ulong time = Discipline.Settings.Cc[TermiosBits.VTIME];
            if (minimum == 0 && time == 0) return true;
            return Discipline.ReadyCount > 0 || _port.InputWaiting(this);
        }

        // ---- write ----

        /// <summary>A program's write: OPOST processing, then the displays. Waits while ^S (IXON)
        /// or TCXONC stopped output; -EAGAIN then when nonBlocking, -EINTR on a signal.</summary>
        public long Write(ReadOnlySpan<byte> bytes, bool nonBlocking = false)
        {
            try { _port.Enter(this); return WriteCore(bytes, nonBlocking); }
            finally { _port.Leave(this); }
        }

        private long WriteCore(ReadOnlySpan<byte> bytes, bool nonBlocking)
        {
            if (bytes.Length == 0) return 0;
            // Input that came is processed first (^S must stop this output), but only by the
            // foreground: a background writer must not take its job's input.
            if (IsForeground(CurrentCaller)) Pump(0);
            while (Discipline.OutputStopped)
            {
                if (nonBlocking) return -Errno.EAGAIN;
                long waited = WaitForInput(ulong.MaxValue, 0, false);
                if (waited < 0) return waited;
                if (waited == 0) break;
            }
            FlushEcho();
            Discipline.ProcessOutput(bytes, _processed);
            _port.Display(_processed.Span);
            _processed.Clear();
            return bytes.Length;
        }

        // ---- ioctl ----

        /// <summary>The caller is in the terminal's session (the terminal is its controlling one).
        /// The first caller's session takes a terminal that has none (the first program's session
        /// leader opening its console, as Linux does on open without O_NOCTTY).</summary>
        private bool IsControlling(TerminalCaller caller)
        {
            if (Session == 0)
            {
                Session = caller.Session;
                ForegroundGroup = caller.ProcessGroup;
            }
            return Session == caller.Session;
        }

        public long Ioctl(ulong request, ulong argument, IProgramMemory memory)
        {
            try { _port.Enter(this); return IoctlCore(request, argument, memory); }
            finally { _port.Leave(this); }
        }

        private long IoctlCore(ulong request, ulong argument, IProgramMemory memory)
        {
            if (request > uint.MaxValue) return -Errno.ENOTTY;
            Span<byte> scratch = stackalloc byte[TerminalIoctls.Termios2Size];
            switch ((uint)request)
            {
                case TerminalIoctls.TCGETS:
                case TerminalIoctls.TCGETS2:
                    {
                        int size = (uint)request == TerminalIoctls.TCGETS ? Termios.Size : TerminalIoctls.Termios2Size;
                        Discipline.Settings.Encode(scratch);
                        if (size == TerminalIoctls.Termios2Size)
                        {
                            Termios.PutU32(scratch, 36, TerminalIoctls.Speed);
                            Termios.PutU32(scratch, 40, TerminalIoctls.Speed);
                        }
                        return memory.CopyOut(argument, scratch.Slice(0, size)) ? 0 : -Errno.EFAULT;
                    }
                case TerminalIoctls.TCSETS:
                case TerminalIoctls.TCSETSW:
                case TerminalIoctls.TCSETSF:
                case TerminalIoctls.TCSETS2:
                case TerminalIoctls.TCSETSW2:
                case TerminalIoctls.TCSETSF2:
                    {
                        uint r = (uint)request;
                        int size = r <= TerminalIoctls.TCSETSF ? Termios.Size : TerminalIoctls.Termios2Size;
                        if (!memory.CopyIn(argument, scratch.Slice(0, size))) return -Errno.EFAULT;
                        Termios settings = Termios.Decode(scratch);
                        // Output is written synchronously, so "after draining output" (W) is now.
                        if (r == TerminalIoctls.TCSETSF || r == TerminalIoctls.TCSETSF2) Discipline.FlushInput();
                        Discipline.SetSettings(settings);
                        return 0;
                    }
                case TerminalIoctls.TIOCGWINSZ:
                    Size.Encode(scratch);
                    return memory.CopyOut(argument, scratch.Slice(0, WindowSize.Size)) ? 0 : -Errno.EFAULT;
                case TerminalIoctls.TIOCSWINSZ:
                    {
                        if (!memory.CopyIn(argument, scratch.Slice(0, WindowSize.Size))) return -Errno.EFAULT;
                        WindowSize size = WindowSize.Decode(scratch);
                        bool changed = size.Rows != Size.Rows || size.Columns != Size.Columns
                            || size.XPixels != Size.XPixels || size.YPixels != Size.YPixels;
                        Size = size;
                        if (changed) Raise(TerminalSignals.SIGWINCH);
                        return 0;
                    }
                case TerminalIoctls.FIONREAD:
                    Pump(int.MaxValue);
                    return PutInt(memory, argument, Discipline.Canonical ? Discipline.ReadableBytes : Discipline.ReadyCount);
                case TerminalIoctls.TIOCOUTQ:
                    return PutInt(memory, argument, 0);
                case TerminalIoctls.TCFLSH:
                    switch (argument)
                    {
                        case 0: case 2: Discipline.FlushInput(); return 0;  // TCIFLUSH, TCIOFLUSH
                        case 1: return 0;                                     // TCOFLUSH: nothing is queued
                        default: return -Errno.EINVAL;
                    }
                case TerminalIoctls.TCXONC:
                    switch (argument)
                    {
                        case 0: Discipline.OutputStopped = true; return 0;   // TCOOFF
                        case 1: Discipline.OutputStopped = false; return 0;  // TCOON
                        case 2: SendControl(TermiosBits.VSTOP); return 0;    // TCIOFF
                        case 3: SendControl(TermiosBits.VSTART); return 0;   // TCION
                        default: return -Errno.EINVAL;
                    }
                case TerminalIoctls.TCSBRK:
                case TerminalIoctls.TCSBRKP:
                    return 0; // drain (output is synchronous) or a break (no line to break)
                case TerminalIoctls.TIOCEXCL: Exclusive = true; return 0;
                case TerminalIoctls.TIOCNXCL: Exclusive = false; return 0;
                case TerminalIoctls.TIOCGETD: return PutInt(memory, argument, 0); // N_TTY
                case TerminalIoctls.TIOCSETD:
                    {
                        if (!memory.CopyIn(argument, scratch.Slice(0, 4))) return -Errno.EFAULT;
                        return Termios.GetU32(scratch, 0) == 0 ? 0 : -Errno.EINVAL;
                    }
                case TerminalIoctls.TIOCSTI:
                    {
                        if (!memory.CopyIn(argument, scratch.Slice(0, 1))) return -Errno.EFAULT;
                        Discipline.Receive(scratch[0]);
                        AfterInput();
                        return 0;
                    }
                case TerminalIoctls.TIOCGPGRP:
                    {
                        if (!IsControlling(CurrentCaller)) return -Errno.ENOTTY;
                        return PutInt(memory, argument, ForegroundGroup);
                    }
                case TerminalIoctls.TIOCSPGRP:
                    {
                        TerminalCaller caller = CurrentCaller;
                        if (!IsControlling(caller)) return -Errno.ENOTTY;
                        if (!memory.CopyIn(argument, scratch.Slice(0, 4))) return -Errno.EFAULT;
                        int group = (int)Termios.GetU32(scratch, 0);
                        if (group < 0) return -Errno.EINVAL;
                        if (GroupInSession != null && !GroupInSession(group, Session)) return -Errno.EPERM;
                        ForegroundGroup = group;
                        return 0;
                    }
                case TerminalIoctls.TIOCGSID:
                    {
                        if (!IsControlling(CurrentCaller)) return -Errno.ENOTTY;
                        return PutInt(memory, argument, Session);
                    }
                case TerminalIoctls.TIOCSCTTY:
                    {
                        TerminalCaller caller = CurrentCaller;
                        if (Session == caller.Session && Session != 0) return 0;
                        if (caller.Session != caller.ProcessId) return -Errno.EPERM;  // not a session leader
                        if (Session != 0 && argument != 1) return -Errno.EPERM;       // another session's (steal: root)
                        Session = caller.Session;
                        ForegroundGroup = caller.ProcessGroup;
                        return 0;
                    }
                case TerminalIoctls.TIOCNOTTY:
                    {
                        TerminalCaller caller = CurrentCaller;
                        if (Session == 0 || Session != caller.Session) return -Errno.ENOTTY;
                        if (caller.Session == caller.ProcessId)
                        {
                            // The session leader gives the terminal up: its session loses it.
                            // (Linux also sends SIGHUP and SIGCONT to the foreground group.)
                            if (ForegroundGroup > 0)
                            {
                                Raise(1);   // SIGHUP
                                Raise(18);  // SIGCONT
                            }
                            Session = 0;
                            ForegroundGroup = 0;
                        }
                        return 0;
                    }
            }
            return -Errno.ENOTTY;
        }

        private void SendControl(int index)
        {
            byte c = Discipline.Settings.Cc[index];
            if (c == 0) return;
            Span<byte> one = stackalloc byte[1];
            one[0] = c;
            _port.Display(one);
        }

        private static long PutInt(IProgramMemory memory, ulong address, int value)
        {
            Span<byte> b = stackalloc byte[4];
            Termios.PutU32(b, 0, (uint)value);
            return memory.CopyOut(address, b) ? 0 : -Errno.EFAULT;
        }
    }
}
