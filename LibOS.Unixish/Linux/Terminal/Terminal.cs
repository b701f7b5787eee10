// The program's terminal: what fds 0-2, /dev/console and /dev/tty read, write and ioctl. One
// TerminalDevice (line discipline, termios, window size, session, foreground group) over the
// Aegis devices (AegisTerminalPort): input from the PS/2 keyboard (scan codes) and COM1 (bytes)
// through the Input capabilities, output to the console (ConsoleWrite: serial, and the VGA while
// the kernel still draws it) and, once the Display capability's DeviceMap succeeded, to the VGA
// text buffer through a VT100 emulator (VtScreen) the libOS runs.
//
// Hooks for the process and signal work (docs/libos-unixish.md, "The terminal"):
//   SignalHook(signal, group)  ^C/^\/^Z (and SIGWINCH, SIGHUP/SIGCONT on TIOCNOTTY) for the
//                              foreground group; null: counted in UndeliveredSignals, not acted on;
//   InterruptPending()         true ends a blocking read/write with -EINTR;
//   Caller()                   the caller's pid, process group, session (default: all the
//                              environment id, i.e. every process its own session leader);
//   GroupInSession(group, sid) TIOCSPGRP's check (null: any group is accepted);
//   ServiceInput()             moves the control characters that arrived (^C ^\ ^Z ^S ^Q)
//                              through the line discipline when the caller is in the foreground
//                              group; the text stays for its reader (WatchInput() makes a Wait
//                              wake for input; a blocked process is served by ServiceSignalKeys).
//
// Per process: each environment has its own TerminalDevice (a fork copies it); its control
// state (termios, window size, session, foreground group) and the VGA screen's state live in the
// VGA memory itself (AegisTerminalPort), so every process sees the same settings and continues
// the same screen; input stays in the kernel's rings until a process reads it (what a process took
// is its own: AegisTerminalPort.Pump takes only what the caller is about to read).
// Invariant: nothing here throws to the caller for bad program input.
using System;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class Terminal
    {
        private static TerminalDevice s_device;
        private static AegisTerminalPort s_port;
        private static ProgramMemory s_memory;

        /// <summary>The terminal of this process (created on first use).</summary>
        public static TerminalDevice Device
        {
            get
            {
                if (s_device == null)
                {
                    // A new personality instance (not a fork child, which has the parent's device,
                    // nor an execve, which keeps it): the screen and control state left in the VGA
                    // by an earlier instance are stale (the kernel may have drawn since).
                    s_port = new AegisTerminalPort { Fresh = true };
                    s_memory = new ProgramMemory();
                    s_port.Attach();
                    s_device = new TerminalDevice(s_port, s_port.HasDisplay ? 25 : 24, 80);
                    ulong id = Info.EnvironmentId;
                    s_device.CallerDefault = new TerminalCaller { ProcessId = (int)id, ProcessGroup = (int)id, Session = (int)id };
                    if (s_created != null) s_created(s_device);
                }
                return s_device;
            }
        }

        private static delegate*<TerminalDevice, void> s_created;

        /// <summary>Runs hook on the device when it is made (at once if it exists): how the process
        /// and signal work set SignalHook, InterruptPending and Caller without making a terminal
        /// for a process that never uses one.</summary>
        public static void WhenCreated(delegate*<TerminalDevice, void> hook)
        {
            s_created = hook;
            if (s_device != null) hook(s_device);
        }

        /// <summary>Whether this process has a terminal device (it used one, or inherited it).</summary>
        public static bool Exists => s_device != null;

        private static delegate*<TerminalCaller> s_process;

        /// <summary>Who this process really is (pid, process group, session), for the foreground test
        /// of WatchIfForeground and ServiceSignalKeys; set by the process work. (The device's own
        /// Caller is left as it was: its read and write paths keep their behaviour.)</summary>
        public static void SetProcessIdentity(delegate*<TerminalCaller> identity) => s_process = identity;

        private static TerminalCaller CallerNow => s_process != null ? s_process() : s_device.Caller != null ? s_device.Caller() : s_device.CallerDefault;

        /// <summary>At the start of a blocking call elsewhere (nanosleep, wait4, pause): a process of
        /// the foreground group becomes the input devices' watcher, so ^C typed meanwhile wakes it
        /// (the kernel wakes every watcher: a process reading the terminal hears too; a background
        /// process does not take the watch).
        /// True when this process is now the watcher.</summary>
        public static bool WatchIfForeground()
        {
            if (s_device == null) return false;
            try { return s_port.WatchIfForeground(s_device, CallerNow); }
            catch (Exception e) { LinuxLog.Line("terminal watch failed: " + e.GetType().Name + ": " + e.Message); return false; }
        }

        /// <summary>After a wait woken in a blocking call elsewhere: the signal characters (^C, ^\
        /// and ^Z with ISIG) typed meanwhile reach the line discipline, which raises the signal for the
        /// foreground group; only the bytes up to the last of them are taken from the kernel's ring
        /// (the rest stays for the next reader). Only for a process of the foreground group or the
        /// session's leader (the shell passes ^C on to a job that never blocks).</summary>
        public static void ServiceSignalKeys()
        {
            if (s_device == null) return;
            try { s_port.ServiceSignalKeys(s_device, CallerNow); }
            catch (Exception e) { LinuxLog.Line("terminal input failed: " + e.GetType().Name + ": " + e.Message); }
        }

        public static TerminalSignalHook SignalHook { get => Device.SignalHook; set => Device.SignalHook = value; }
        public static Func<bool> InterruptPending { get => Device.InterruptPending; set => Device.InterruptPending = value; }
        public static Func<TerminalCaller> Caller { get => Device.Caller; set => Device.Caller = value; }
        public static Func<int, int, bool> GroupInSession { get => Device.GroupInSession; set => Device.GroupInSession = value; }
        public static int ForegroundGroup { get => Device.ForegroundGroup; set => Device.ForegroundGroup = value; }
        public static int Session { get => Device.Session; set => Device.Session = value; }
        public static long UndeliveredSignals => Device.UndeliveredSignals;

        /// <summary>Reads up to length bytes into the program's buffer (already checked writable):
        /// bytes read, 0 at end of input, -EAGAIN when nonBlocking and nothing is ready.</summary>
        public static long Read(byte* buffer, int length, bool nonBlocking)
        {
            if (length <= 0) return 0;
            return Device.Read(new Span<byte>(buffer, length), nonBlocking);
        }

        /// <summary>Writes length bytes (already copied or checked readable): bytes written.</summary>
        public static long Write(byte* buffer, int length) => Write(buffer, length, false);

        /// <summary>As Write; nonBlocking (O_NONBLOCK): -EAGAIN instead of waiting while output is
        /// stopped (^S, TCXONC).</summary>
        public static long Write(byte* buffer, int length, bool nonBlocking)
        {
            if (length <= 0) return 0;
            return Device.Write(new ReadOnlySpan<byte>(buffer, length), nonBlocking);
        }

        /// <summary>A terminal ioctl (TCGETS, TCSETS*, TIOCGWINSZ, ...): its result, -EFAULT for a
        /// bad argument pointer, -ENOTTY for a request a Linux tty does not know.</summary>
        public static long Ioctl(ulong request, ulong argument) => Device.Ioctl(request, argument, s_memory);

        /// <summary>Whether a Read would not block now.</summary>
        public static bool PollReadable() => Device.PollReadable();

        /// <summary>What the VGA shows on a row (code page 437 bytes as chars, the cursor's cell
        /// included), or null while this terminal has no display mapped (tests, diagnostics).</summary>
        public static string DisplayRow(int row)
        {
            TerminalDevice device = Device;
            return s_port.DisplayRow(row, out _);
        }

        /// <summary>The attribute byte the VGA shows at a cell, or -1 without a display.</summary>
        public static int DisplayAttribute(int row, int column)
        {
            TerminalDevice device = Device;
            if (s_port.DisplayRow(row, out ushort* cells) == null || column < 0 || column >= 80) return -1;
            return cells[column] >> 8;
        }

        /// <summary>Processes input that arrived (echo, ^C) without reading, when the caller is in the
        /// foreground group (see the header); true when input came.</summary>
        public static bool ServiceInput() => Device.PumpIfForeground();

        /// <summary>Makes this environment the one woken (UpcallKind.Input) when input arrives, so a
        /// Wait elsewhere returns for it; true when any input device is held.</summary>
        public static bool WatchInput()
        {
            if (s_device == null) { TerminalDevice created = Device; }
            return s_port.WatchAll();
        }

        private sealed class ProgramMemory : IProgramMemory
        {
            public bool CopyIn(ulong address, Span<byte> destination)
            {
                fixed (byte* p = destination) return UserPointers.CopyIn(p, address, (ulong)destination.Length);
            }

            public bool CopyOut(ulong address, ReadOnlySpan<byte> source)
            {
                fixed (byte* p = source) return UserPointers.CopyOut(address, p, (ulong)source.Length);
            }
        }
    }

    /// <summary>The Aegis side of the terminal: input rings, Wait, the clock, serial and VGA output.
    /// After a fork the child finds its own capabilities and maps the VGA again (Attach).</summary>
    internal sealed unsafe class AegisTerminalPort : ITerminalPort
    {
        // The VGA buffer (8 pages): page 0 is what the screen shows (80x25 cells, the cursor's cell
        // inverted); pages 1-3 carry the emulator between processes: 0x1000 the cells as drawn
        // (cursor not inverted), 0x2000 a header (magic, generation) and the emulator's state,
        // 0x3000 the main screen while the alternate screen is on. The VGA shows none of them.
        private const int CellsOffset = 0x1000, HeaderOffset = 0x2000, StateOffset = 0x2010, MainOffset = 0x3000;
        private const uint Magic = 0x31545641; // "AVT1"
        // 0x4000: the terminal's control state (TerminalDevice.SaveControl: settings, window size,
        // session, foreground group) with its own magic and generation, so a shell sees the
        // foreground group its child set and the settings `stty` changed.
        private const int ControlOffset = 0x4000, ControlStateOffset = 0x4010;
        private const uint ControlMagic = 0x31545441; // "ATT1"
        private uint _controlGeneration;
        private readonly byte[] _controlSnapshot = new byte[TerminalDevice.ControlStateSize];
        private int _depth;
        private TerminalDevice _current;

        private ulong _environment;
        private ulong _keyboard = InputDevices.NoSlot, _serial = InputDevices.NoSlot, _display = InputDevices.NoSlot;
        private ulong _vgaAddress;
        private byte* _vga;
        private VtScreen _screen;
        private uint _generation;
        private readonly byte[] _input = new byte[256];
        private int _rawSerial; // 1: ConsoleWrite takes the Serial capability (raw), -1: it does not, 0: not tried
        private readonly PlainTextFilter _plain = new PlainTextFilter();
        private readonly ByteQueue _plainBytes = new ByteQueue();

        public bool HasDisplay => _vga != null;

        /// <summary>This instance starts the terminal afresh: it adopts the screen as displayed and
        /// publishes its own control state instead of loading what it finds.</summary>
        public bool Fresh;

        /// <summary>(Again) finds the capabilities and maps the display when this is a new
        /// environment (the first use, or the first use after a fork).</summary>
        public void Attach()
        {
            ulong id = Info.EnvironmentId;
            if (id == _environment) return;
            _environment = id;
            _rawSerial = 0;
            InputDevices.Find(out _keyboard, out _serial, out _display);
            _vga = null;
            if (_display == InputDevices.NoSlot) return;
            if (_vgaAddress == 0 || !InputDevices.MapDisplay(_display, _vgaAddress))
            {
                ulong address = AddressSpace.Reserve(InputDevices.DisplayPages);
                if (address == 0 || !InputDevices.MapDisplay(_display, address)) return;
                _vgaAddress = address;
            }
            _vga = (byte*)_vgaAddress;
            if (_screen == null) _screen = new VtScreen(25, 80);
            if (Fresh || *(uint*)(_vga + HeaderOffset) != Magic)
            {
                // First user of the display: take over what the kernel's console drew.
                _screen.Adopt(new ReadOnlySpan<ushort>(_vga, 25 * 80));
                Publish();
            }
            else
            {
                _generation = ~*(uint*)(_vga + HeaderOffset + 4); // force a load
            }
        }

        /// <summary>Counted before anything can fail, so the Leave in the caller's finally balances it.</summary>
        public void Enter(TerminalDevice device)
        {
            if (_depth++ > 0) return;
            _current = device;
            Attach();
            LoadControl(device);
        }

        public void Leave(TerminalDevice device) => Leave(device, true);

        /// <summary>publish false: the caller changed nothing of the control state since its Enter
        /// (so the comparison with the snapshot is skipped: a blocking call's wait steps through here).</summary>
        private void Leave(TerminalDevice device, bool publish)
        {
            if (--_depth > 0) return;
            if (publish) PublishControl(device);
        }

        /// <summary>Takes the control state if another process changed it since this one looked.</summary>
        private void LoadControl(TerminalDevice device)
        {
            if (_vga == null) return;
            uint* header = (uint*)(_vga + ControlOffset);
            Span<byte> shared = new Span<byte>(_vga + ControlStateOffset, TerminalDevice.ControlStateSize);
            if (Fresh || header[0] != ControlMagic)
            {
                Fresh = false;
                device.SaveControl(shared);
                header[0] = ControlMagic;
                header[1] = header[1] + 1;
                _controlGeneration = header[1];
            }
            else if (header[1] != _controlGeneration)
            {
                device.LoadControl(shared);
                _controlGeneration = header[1];
            }
            else
            {
                // Nobody changed it: the snapshot the last Leave left is the device's state still
                // (a blocking call's wait enters and leaves twice; two encodings each cost nginx's
                // requests ~2% of their instructions).
                return;
            }
            device.SaveControl(_controlSnapshot);
        }

        /// <summary>Publishes the control state if this process changed it.</summary>
        private void PublishControl(TerminalDevice device)
        {
            if (_vga == null) return;
            Span<byte> now = stackalloc byte[TerminalDevice.ControlStateSize];
            device.SaveControl(now);
            if (now.SequenceEqual(_controlSnapshot)) return;
            now.CopyTo(new Span<byte>(_vga + ControlStateOffset, TerminalDevice.ControlStateSize));
            uint* header = (uint*)(_vga + ControlOffset);
            header[0] = ControlMagic;
            header[1] = header[1] + 1;
            _controlGeneration = header[1];
            now.CopyTo(_controlSnapshot);
        }

        public string DisplayRow(int row, out ushort* cells)
        {
            cells = null;
            Attach();
            if (_vga == null || row < 0 || row >= 25) return null;
            cells = (ushort*)_vga + row * 80;
            char[] text = new char[80];
            for (int c = 0; c < 80; c++) text[c] = (char)(byte)cells[c];
            return new string(text);
        }

        /// <summary>Terminal.WatchIfForeground. A process that watches every device already (the
        /// kernel's InfoPage.InputWatchers) stays the watcher without looking at the terminal's
        /// state or calling the kernel: a blocking call of a foreground server (nginx as init)
        /// paid two InputWatch calls and a read of the display's shared header before each sleep.</summary>
        public bool WatchIfForeground(TerminalDevice device, TerminalCaller caller)
        {
            if (WatchingAlready()) return true;
            Enter(device);
            try { return device.IsForeground(caller) && WatchAll(); }
            finally { Leave(device, false); } // watching the input changes no control state
        }

        /// <summary>Terminal.ServiceSignalKeys: takes the bytes up to and including the last signal
        /// character in each ring (TakeControlCharacters) for a process of the foreground group or
        /// the session's leader, when anything arrived since its last look.</summary>
        public void ServiceSignalKeys(TerminalDevice device, TerminalCaller caller)
        {
            // Nothing came since the last look (InfoPage.InputArrivals): the bytes in the rings were
            // all looked at then, so there is no new signal character (as Linux, a character is
            // a signal or not when it arrives). Read before the look: bytes arriving during it
            // move the count again, and the next wait looks again.
            ulong serialCount = Info.InputArrivals(InputDevice.Serial), keyboardCount = Info.InputArrivals(InputDevice.Keyboard);
            if (serialCount == _serialLooked && keyboardCount == _keyboardLooked && _environment == Info.EnvironmentId) return;
            _serialLooked = serialCount;
            _keyboardLooked = keyboardCount;
            Enter(device);
            bool received = false; // bytes fed to the device (its signals may change the control state)
            try
            {
                // The session's leader too: a foreground job that never blocks never watches the
                // input, so its shell (the watcher since it read the command line) is woken instead
                // and passes ^C on to the foreground group; the text typed ahead stays in the ring.
                bool leader = caller.ProcessId != 0 && caller.ProcessId == caller.Session && caller.Session == device.Session;
                if (!device.IsForeground(caller) && !leader) return;
                received = TakeControlCharacters(device, false);
            }
            finally { Leave(device, received); }
        }

        /// <summary>Takes from each ring the bytes up to and including the last control character,
        /// which on Linux acts when it arrives, not when a program reads: VINTR, VQUIT and VSUSP
        /// with ISIG, and with flow (a writer's look) VSTOP and VSTART with IXON. Text before it
        /// goes into this process's discipline with it; text after it stays for the next reader.
        /// True when bytes were fed to the device.</summary>
        private bool TakeControlCharacters(TerminalDevice device, bool flow)
        {
            Termios settings = device.Discipline.Settings;
            Span<byte> controls = stackalloc byte[5];
            int count = 0;
            if ((settings.LocalFlags & TermiosBits.ISIG) != 0)
            {
                controls[count++] = settings.Cc[TermiosBits.VINTR];
                controls[count++] = settings.Cc[TermiosBits.VQUIT];
                controls[count++] = settings.Cc[TermiosBits.VSUSP];
            }
            if (flow && (settings.InputFlags & TermiosBits.IXON) != 0)
            {
                controls[count++] = settings.Cc[TermiosBits.VSTOP];
                controls[count++] = settings.Cc[TermiosBits.VSTART];
            }
            if (count == 0) return false;
            controls = controls.Slice(0, count);
            bool received = false;
            fixed (byte* buffer = _input)
            {
                MakeWritable(buffer, _input.Length);
                if (_serial != InputDevices.NoSlot)
                {
                    long n = InputDevices.Peek(_serial, buffer, _input.Length);
                    int last = -1;
                    for (int i = 0; i < n; i++)
                        if (IsControl(buffer[i], controls)) last = i;
                    if (last >= 0)
                    {
                        long taken = InputDevices.Read(_serial, buffer, last + 1);
                        if (taken > 0) { received = true; device.ReceiveSerial(new ReadOnlySpan<byte>(buffer, (int)taken)); }
                    }
                }
                if (_keyboard != InputDevices.NoSlot)
                {
                    long n = InputDevices.Peek(_keyboard, buffer, _input.Length);
                    if (n > 0 && TakeKeyboardControlKeys(device, buffer, (int)n, controls)) received = true;
                }
            }
            return received;
        }

        private static bool IsControl(byte b, ReadOnlySpan<byte> controls) => b != 0 && controls.IndexOf(b) >= 0;

        /// <summary>TakeControlCharacters on the keyboard's n peeked bytes: translates them with a
        /// copy of this process's translator (the ring's bytes follow the last ones this process
        /// took, unless someone else read since: then no key counts as held) and takes the bytes up
        /// to the last whose translation is a control character. A plain c, \ or z is not one:
        /// taking those stole them from the reader (vi lost a typed c to its shell waiting in wait4).</summary>
        private bool TakeKeyboardControlKeys(TerminalDevice device, byte* buffer, int n, ReadOnlySpan<byte> controls)
        {
            // The ring's read position, read after the peek: bytes arriving meanwhile make it look
            // larger than it is, and the doubt forgets the held keys (a ^C missed until the next
            // look rather than a plain key taken).
            ulong readPosition = Info.InputArrivals(InputDevice.Keyboard) - (ulong)n;
            _probe.CopyFrom(device.Keyboard);
            if (readPosition != _keyboardTakenTo) _probe.ReleaseModifiers();
            Span<byte> produced = stackalloc byte[ScanCodeTranslator.MaximumOutput];
            int last = -1;
            for (int i = 0; i < n; i++)
            {
                int count = _probe.Translate(buffer[i], produced);
                for (int k = 0; k < count; k++)
                    if (IsControl(produced[k], controls)) last = i;
            }
            if (last < 0) return false;
            if (readPosition != _keyboardTakenTo) device.Keyboard.ReleaseModifiers();
            if (_screen != null) device.Keyboard.ApplicationCursorKeys = _screen.ApplicationCursorKeys;
            long taken = InputDevices.Read(_keyboard, buffer, last + 1);
            if (taken <= 0) return false;
            _keyboardTakenTo = readPosition + (ulong)taken;
            device.ReceiveKeyboard(new ReadOnlySpan<byte>(buffer, (int)taken));
            return true;
        }

        /// <summary>The keyboard ring's read position after this process's last take of signal
        /// keys (ulong.MaxValue: none yet), and the translator that looks ahead.</summary>
        private ulong _keyboardTakenTo = ulong.MaxValue;
        private readonly ScanCodeTranslator _probe = new ScanCodeTranslator();

        /// <summary>Writes every page of the buffer before the kernel does: after a fork the libOS's
        /// heap is copy-on-write, and the kernel refuses (BadAddress) to write into a page that is
        /// not writable yet — InputRead then read nothing in a forked process.</summary>
        private static void MakeWritable(byte* buffer, int length)
        {
            for (int i = 0; i < length; i += 4096 - (int)(((ulong)(buffer + i)) & 4095)) buffer[i] = 0;
            buffer[length - 1] = 0;
        }

        /// <summary>InfoPage.InputArrivals at this process's last look for signal characters
        /// (ulong.MaxValue: never looked; a fork's child looks again, its Attach is new).</summary>
        private ulong _serialLooked = ulong.MaxValue, _keyboardLooked = ulong.MaxValue;

        /// <summary>Whether this process is the watcher of every input device it has (InfoPage.InputWatchers).</summary>
        private bool WatchingAlready()
        {
            Attach();
            if (_keyboard == InputDevices.NoSlot && _serial == InputDevices.NoSlot) return false;
            ulong me = _environment;
            return (_keyboard == InputDevices.NoSlot || Info.InputWatcher(InputDevice.Keyboard) == me)
                && (_serial == InputDevices.NoSlot || Info.InputWatcher(InputDevice.Serial) == me);
        }

        public bool WatchAll()
        {
            Attach();
            bool any = false;
            if (_keyboard != InputDevices.NoSlot) any |= InputDevices.Watch(_keyboard, true);
            if (_serial != InputDevices.NoSlot) any |= InputDevices.Watch(_serial, true);
            return any;
        }

        public bool Pump(TerminalDevice device, int want)
        {
            Attach();
            bool any = false;
            if (_screen != null && _screen.Responses.Length > 0)
            {
                byte[] answer = new byte[_screen.Responses.Length];
                for (int i = 0; i < answer.Length; i++) answer[i] = _screen.Responses[i];
                _screen.Responses.Clear();
                device.ReceiveResponse(answer);
                any = true;
            }
            // The bytes in the kernel's rings are the terminal's, not a process's, as in a Linux
            // tty that all its readers share: what a process takes is its own and is lost when it
            // ends. So it takes only what it is about to read. Canonical mode: nothing while a line
            // is ready, and pieces that end at a byte that may end a line (`head -n 1` took the
            // shell's next command line with its own). Otherwise: pieces until 'want' bytes are
            // ready (the shell's line editor reads a byte at a time: it took the lines pasted
            // behind "cat > f", and cat got none).
            // want 0 (a writer, a process blocked elsewhere): only the control characters, and
            // only when bytes came since this look last ran (those there then were no control
            // characters): a program writing line after line makes no kernel call for input.
            if (want == 0)
            {
                ulong serialCount = Info.InputArrivals(InputDevice.Serial), keyboardCount = Info.InputArrivals(InputDevice.Keyboard);
                if (serialCount == _controlsSerialLooked && keyboardCount == _controlsKeyboardLooked && _environment == _controlsLookedBy) return any;
                _controlsSerialLooked = serialCount;
                _controlsKeyboardLooked = keyboardCount;
                _controlsLookedBy = _environment;
                return TakeControlCharacters(device, true) | any;
            }
            LineDiscipline discipline = device.Discipline;
            bool lines = discipline.Canonical;
            if (Enough(discipline, lines, want)) return any;
            fixed (byte* buffer = _input)
            {
                MakeWritable(buffer, _input.Length);
                if (_keyboard != InputDevices.NoSlot)
                {
                    if (_screen != null) device.Keyboard.ApplicationCursorKeys = _screen.ApplicationCursorKeys;
                    long n;
                    while ((n = InputDevices.Read(_keyboard, buffer, KeyboardPiece(device, buffer, lines, want))) > 0)
                    {
                        device.ReceiveKeyboard(new ReadOnlySpan<byte>(buffer, (int)n));
                        any = true;
                        if (Enough(discipline, lines, want)) return any;
                    }
                }
                if (_serial != InputDevices.NoSlot)
                {
                    long n;
                    while ((n = InputDevices.Read(_serial, buffer, SerialPiece(device, buffer, lines, want))) > 0)
                    {
                        device.ReceiveSerial(new ReadOnlySpan<byte>(buffer, (int)n));
                        any = true;
                        if (Enough(discipline, lines, want)) return any;
                    }
                }
            }
            return any;
        }

        /// <summary>InfoPage.InputArrivals when Pump last looked for control characters alone, and
        /// the environment that looked (a fork's child looks again).</summary>
        private ulong _controlsSerialLooked = ulong.MaxValue, _controlsKeyboardLooked = ulong.MaxValue, _controlsLookedBy;

        /// <summary>Whether the discipline holds what the caller is about to read: a line, or
        /// 'want' bytes outside canonical mode.</summary>
        private static bool Enough(LineDiscipline discipline, bool lines, int want)
            => lines ? discipline.Delimiters > 0 : discipline.ReadyCount >= want;

        /// <summary>Whether byte b, arriving in canonical mode, may end a line (CR and NL before the
        /// CR/NL mapping, VEOF, VEOL, VEOL2). A guess is enough: a piece that ends early is followed
        /// by the next one, and one that ends late only takes what was taken before.</summary>
        private static bool MayEndLine(byte b, Termios settings)
        {
            if (b == (byte)'\n' || b == (byte)'\r') return true;
            if (b == 0) return false;
            return b == settings.Cc[TermiosBits.VEOF] || b == settings.Cc[TermiosBits.VEOL] || b == settings.Cc[TermiosBits.VEOL2];
        }

        /// <summary>How many of the serial ring's bytes to take: in canonical mode up to the first
        /// that may end a line, otherwise the bytes still wanted (all the ring holds when neither
        /// limits it; 1 when it is empty, so the read says so).</summary>
        private int SerialPiece(TerminalDevice device, byte* buffer, bool lines, int want)
        {
            if (!lines) return (int)Math.Min((long)want - device.Discipline.ReadyCount, _input.Length);
            long n = InputDevices.Peek(_serial, buffer, _input.Length);
            int end = SerialLineEnd(device, buffer, n);
            return end > 0 ? end : n > 0 ? (int)n : 1;
        }

        /// <summary>The number of the n peeked serial bytes up to and including the first that may
        /// end a line; 0 when none does.</summary>
        private static int SerialLineEnd(TerminalDevice device, byte* buffer, long n)
        {
            Termios settings = device.Discipline.Settings;
            for (int i = 0; i < n; i++)
                if (MayEndLine(buffer[i], settings)) return i + 1;
            return 0;
        }

        /// <summary>As SerialPiece for the keyboard: up to the first scan code whose translation
        /// holds a byte that may end a line, or brings the bytes still wanted.</summary>
        private int KeyboardPiece(TerminalDevice device, byte* buffer, bool lines, int want)
        {
            long wanted = (long)want - device.Discipline.ReadyCount;
            if (!lines && wanted >= _input.Length) return _input.Length;
            long n = InputDevices.Peek(_keyboard, buffer, _input.Length);
            int end = ScanKeyboard(device, buffer, n, lines, wanted);
            return end > 0 ? end : n > 0 ? (int)n : 1;
        }

        /// <summary>Translates the n peeked scan codes with a copy of the process's translator: the
        /// number of them up to and including the first whose translation holds a byte that may
        /// end a line (lines) or brings the bytes translated to 'wanted'; 0 when none does.</summary>
        private int ScanKeyboard(TerminalDevice device, byte* buffer, long n, bool lines, long wanted)
        {
            Termios settings = device.Discipline.Settings;
            _probe.CopyFrom(device.Keyboard);
            Span<byte> produced = stackalloc byte[ScanCodeTranslator.MaximumOutput];
            long translated = 0;
            for (int i = 0; i < n; i++)
            {
                int count = _probe.Translate(buffer[i], produced);
                if (!lines)
                {
                    if ((translated += count) >= wanted) return i + 1;
                    continue;
                }
                for (int k = 0; k < count; k++)
                    if (MayEndLine(produced[k], settings)) return i + 1;
            }
            return 0;
        }

        /// <summary>Whether the rings hold input a read outside canonical mode would take (a byte,
        /// or a scan code that translates to one), looked at without taking it: poll asks this,
        /// and a program that polls before it ends must not take the next program's keys (busybox
        /// vi looks for typed-ahead keys before it redraws: the e of the shell's next command,
        /// typed behind ":wq", was lost with vi).</summary>
        public bool InputWaiting(TerminalDevice device)
        {
            Attach();
            fixed (byte* buffer = _input)
            {
                MakeWritable(buffer, _input.Length);
                if (_serial != InputDevices.NoSlot && InputDevices.Peek(_serial, buffer, _input.Length) > 0) return true;
                if (_keyboard != InputDevices.NoSlot)
                {
                    long n = InputDevices.Peek(_keyboard, buffer, _input.Length);
                    if (n > 0 && ScanKeyboard(device, buffer, n, false, 1) > 0) return true;
                }
            }
            return false;
        }

        public bool Wait(ulong deadline)
        {
            if (!WatchAll()) return false;
            if (_current != null) PublishControl(_current);
            if (deadline == ulong.MaxValue)
            {
                // The watcher's wakeup is pending if bytes came since the last Pump: no lost wakeup.
                // A thread of the process asleep until a deadline ends the wait then (the reader
                // finds no input, and lets that thread run: TerminalDevice.InsteadOfWaiting).
                ulong threads = Processes.LinuxThreads.NextDeadline;
                if (threads == ulong.MaxValue) SystemCalls.Wait();
                else SystemCalls.WaitUntil(threads == 0 ? 1 : threads);
            }
            else
            {
                // Wait has no timeout: a timed wait (VTIME) yields until input or the deadline.
                SystemCalls.Yield();
            }
            if (_current != null)
            {
                Attach();
                LoadControl(_current);
            }
            return true;
        }

        public ulong NowMilliseconds => Info.GlobalPage->Ticks;

        public void Display(ReadOnlySpan<byte> bytes)
        {
            Attach();
            WriteSerial(bytes);
            if (_vga == null) return;
            Load();
            _screen.Write(bytes);
            Publish();
        }

        /// <summary>The bytes to COM1: raw through the Serial capability when the kernel takes
        /// ConsoleWrite on it (the host terminal then sees the escape sequences as they are); else
        /// through the Console capability as plain text (PlainTextFilter: the kernel would print
        /// every control byte as '?'), which the kernel also draws on the VGA while no one maps it.</summary>
        private void WriteSerial(ReadOnlySpan<byte> bytes)
        {
            if (_serial != InputDevices.NoSlot && _rawSerial >= 0)
            {
                if (WriteAll(_serial, bytes))
                {
                    _rawSerial = 1;
                    return;
                }
                _rawSerial = -1;
            }
            _plain.Filter(bytes, _plainBytes);
            WriteAll(CapabilitySlots.Console, _plainBytes.Span);
            _plainBytes.Clear();
        }

        /// <summary>ConsoleWrite through slot until every byte is taken (yielding while the kernel's
        /// buffer is full); false when the kernel refuses the slot (nothing was written then).</summary>
        private static bool WriteAll(ulong slot, ReadOnlySpan<byte> bytes)
        {
            fixed (byte* start = bytes)
            {
                int done = 0;
                while (done < bytes.Length)
                {
                    int chunk = bytes.Length - done;
                    if (chunk > SystemCallLimits.MaximumConsoleWrite) chunk = SystemCallLimits.MaximumConsoleWrite;
                    SystemCallResult r = SystemCalls.ConsoleWrite(slot, start + done, (ulong)chunk);
                    if (r.IsError)
                    {
                        if (r.Error != Error.WouldBlock) return done > 0;
                        SystemCalls.Yield();
                        continue;
                    }
                    done += (int)r.Value;
                }
            }
            return true;
        }

        /// <summary>Continues the screen another process drew since this one last did.</summary>
        private void Load()
        {
            uint* header = (uint*)(_vga + HeaderOffset);
            if (header[0] != Magic || header[1] == _generation) return;
            ushort* cells = (ushort*)(_vga + CellsOffset);
            for (int i = 0; i < _screen.Cells.Length; i++) _screen.Cells[i] = cells[i];
            _screen.LoadState(new ReadOnlySpan<byte>(_vga + StateOffset, VtScreen.StateSize));
            if (_screen.AlternateScreenActive)
            {
                ushort[] main = new ushort[_screen.Cells.Length];
                ushort* saved = (ushort*)(_vga + MainOffset);
                for (int i = 0; i < main.Length; i++) main[i] = saved[i];
                _screen.SavedMainScreen = main;
            }
            else
            {
                _screen.SavedMainScreen = null;
            }
            _generation = header[1];
        }

        /// <summary>Shows the screen and leaves its state for the next process.</summary>
        private void Publish()
        {
            _screen.Render(new Span<ushort>(_vga, _screen.Cells.Length));
            ushort* cells = (ushort*)(_vga + CellsOffset);
            for (int i = 0; i < _screen.Cells.Length; i++) cells[i] = _screen.Cells[i];
            _screen.SaveState(new Span<byte>(_vga + StateOffset, VtScreen.StateSize));
            ushort[] main = _screen.SavedMainScreen;
            if (main != null)
            {
                ushort* saved = (ushort*)(_vga + MainOffset);
                for (int i = 0; i < main.Length; i++) saved[i] = main[i];
            }
            uint* header = (uint*)(_vga + HeaderOffset);
            header[0] = Magic;
            header[1] = header[1] + 1;
            _generation = header[1];
        }
    }
}
