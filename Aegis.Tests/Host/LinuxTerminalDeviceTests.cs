// The terminal device (LibOS.Unixish/Linux/Terminal/TerminalDevice.cs) over a fake machine:
// blocking and non-blocking reads in canonical mode and under VMIN/VTIME, end of input, -EINTR,
// signals to the foreground group through SignalHook, keyboard scan codes end to end, echo to the
// display, and the ioctls (termios get/set/flush, window size, FIONREAD, process groups,
// sessions, flow control, bad pointers, unknown requests) with Linux's results.
using System.Text;
using Aegis.LibOS.Unixish.Linux;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class LinuxTerminalDeviceTests
{
    /// <summary>Input arrives in scripted chunks, one per Wait; time advances by a step per Wait.</summary>
    private sealed class FakePort : ITerminalPort
    {
        public readonly Queue<(bool keyboard, byte[] bytes)> Script = new();
        public readonly List<(bool keyboard, byte[] bytes)> Arrived = new();
        public readonly StringBuilder Shown = new();
        public int Waits;
        public ulong Now;
        public ulong Step = 10;
        public bool HasInput = true;

        /// <summary>The 'want' of every Pump, in order.</summary>
        public readonly List<int> Wants = new();

        /// <summary>As the machine's port: want 0 takes the bytes up to the last control character
        /// (ISIG's, and IXON's VSTOP and VSTART); otherwise canonical mode takes what arrived (this
        /// fake does not cut lines), and outside it serial bytes only until 'want' are ready, and
        /// the rest stays.</summary>
        public bool Pump(TerminalDevice device, int want)
        {
            Wants.Add(want);
            if (want == 0) return TakeControls(device);
            bool any = false;
            LineDiscipline discipline = device.Discipline;
            while (Arrived.Count > 0 && (discipline.Canonical || discipline.ReadyCount < want))
            {
                var (keyboard, bytes) = Arrived[0];
                int take = bytes.Length;
                if (!keyboard && !discipline.Canonical) take = (int)Math.Min(take, (long)want - discipline.ReadyCount);
                if (keyboard) device.ReceiveKeyboard(bytes[..take]);
                else device.ReceiveSerial(bytes[..take]);
                if (take < bytes.Length) Arrived[0] = (keyboard, bytes[take..]);
                else Arrived.RemoveAt(0);
                any = true;
            }
            return any;
        }

        public bool InputWaiting(TerminalDevice device) => Arrived.Any(a => a.bytes.Length > 0);

        private bool TakeControls(TerminalDevice device)
        {
            Termios t = device.Discipline.Settings;
            var controls = new List<byte>();
            if ((t.LocalFlags & TermiosBits.ISIG) != 0) controls.AddRange(new[] { t.Cc[TermiosBits.VINTR], t.Cc[TermiosBits.VQUIT], t.Cc[TermiosBits.VSUSP] });
            if ((t.InputFlags & TermiosBits.IXON) != 0) controls.AddRange(new[] { t.Cc[TermiosBits.VSTOP], t.Cc[TermiosBits.VSTART] });
            int lastEntry = -1, lastByte = -1;
            for (int e = 0; e < Arrived.Count; e++)
                for (int i = 0; i < Arrived[e].bytes.Length; i++)
                    if (Arrived[e].bytes[i] != 0 && controls.Contains(Arrived[e].bytes[i])) { lastEntry = e; lastByte = i; }
            if (lastEntry < 0) return false;
            for (int e = 0; e < lastEntry; e++) Deliver(device, Arrived[e].keyboard, Arrived[e].bytes);
            var (keyboard, bytes) = Arrived[lastEntry];
            Deliver(device, keyboard, bytes[..(lastByte + 1)]);
            for (int e = 0; e <= lastEntry; e++) Arrived.RemoveAt(0);
            if (lastByte + 1 < bytes.Length) Arrived.Insert(0, (keyboard, bytes[(lastByte + 1)..]));
            return true;
        }

        private static void Deliver(TerminalDevice device, bool keyboard, byte[] bytes)
        {
            if (keyboard) device.ReceiveKeyboard(bytes);
            else device.ReceiveSerial(bytes);
        }

        public bool Wait(ulong deadline)
        {
            if (!HasInput) return false;
            Waits++;
            if (Script.Count > 0) Arrived.Add(Script.Dequeue());
            else if (deadline == ulong.MaxValue) throw new InvalidOperationException("would wait forever");
            Now += Step;
            if (deadline != ulong.MaxValue && Now > deadline) Now = deadline;
            return true;
        }

        public ulong NowMilliseconds => Now;
        public void Display(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes) Shown.Append((char)b);
        }

        public int Depth, Enters;
        public void Enter(TerminalDevice device) { Depth++; Enters++; }
        public void Leave(TerminalDevice device) { Depth--; }

        public void Type(string text) => Script.Enqueue((false, Encoding.Latin1.GetBytes(text)));
        public void Now_(string text) => Arrived.Add((false, Encoding.Latin1.GetBytes(text)));
    }

    /// <summary>Program memory: [0x10000, 0x11000) is accessible, nothing else.</summary>
    private sealed class FakeMemory : IProgramMemory
    {
        public const ulong Base = 0x10000;
        public readonly byte[] Bytes = new byte[0x1000];

        public bool CopyIn(ulong address, Span<byte> destination)
        {
            if (address < Base || address + (ulong)destination.Length > Base + (ulong)Bytes.Length) return false;
            Bytes.AsSpan((int)(address - Base), destination.Length).CopyTo(destination);
            return true;
        }

        public bool CopyOut(ulong address, ReadOnlySpan<byte> source)
        {
            if (address < Base || address + (ulong)source.Length > Base + (ulong)Bytes.Length) return false;
            source.CopyTo(Bytes.AsSpan((int)(address - Base)));
            return true;
        }

        public int Int(int offset) => BitConverter.ToInt32(Bytes, offset);
        public void SetInt(int offset, int value) => BitConverter.GetBytes(value).CopyTo(Bytes, offset);
    }

    private static (TerminalDevice, FakePort, FakeMemory) Make(int rows = 25)
    {
        var port = new FakePort();
        var device = new TerminalDevice(port, rows, 80);
        device.CallerDefault = new TerminalCaller { ProcessId = 7, ProcessGroup = 7, Session = 7 };
        return (device, port, new FakeMemory());
    }

    private static string Read(TerminalDevice device, int size, bool nonBlocking, out long result)
    {
        byte[] buffer = new byte[size];
        result = device.Read(buffer, nonBlocking);
        return result > 0 ? Encoding.Latin1.GetString(buffer, 0, (int)result) : "";
    }

    private static void MakeRaw(TerminalDevice device, FakeMemory memory, byte vmin, byte vtime)
    {
        Assert.That(device.Ioctl(TerminalIoctls.TCGETS, FakeMemory.Base, memory), Is.EqualTo(0));
        Termios t = Termios.Decode(memory.Bytes);
        t.LocalFlags &= ~(TermiosBits.ICANON | TermiosBits.ECHO);
        t.Cc[TermiosBits.VMIN] = vmin;
        t.Cc[TermiosBits.VTIME] = vtime;
        t.Encode(memory.Bytes);
        Assert.That(device.Ioctl(TerminalIoctls.TCSETS, FakeMemory.Base, memory), Is.EqualTo(0));
    }

    [Test]
    public void CanonicalReadWaitsForACompleteLine()
    {
        var (device, port, _) = Make();
        port.Type("ec");
        port.Type("ho hi\r");
        Assert.That(Read(device, 100, false, out _), Is.EqualTo("echo hi\n"));
        Assert.That(port.Waits, Is.EqualTo(2));
        Assert.That(port.Shown.ToString(), Is.EqualTo("echo hi\r\n"), "echoed as typed");
    }

    [Test]
    public void NonBlockingReadWithoutALineIsEagain()
    {
        var (device, port, _) = Make();
        port.Now_("partial");
        Read(device, 100, true, out long result);
        Assert.That(result, Is.EqualTo(-Errno.EAGAIN));
        Assert.That(port.Waits, Is.EqualTo(0));
    }

    [Test]
    public void ControlDAtTheStartOfALineIsEndOfFile()
    {
        var (device, port, _) = Make();
        port.Type("\u0004");
        Read(device, 100, false, out long result);
        Assert.That(result, Is.EqualTo(0));
    }

    [Test]
    public void NoInputDeviceMeansEndOfInput()
    {
        var (device, port, _) = Make();
        port.HasInput = false;
        Read(device, 100, false, out long result);
        Assert.That(result, Is.EqualTo(0));
    }

    [Test]
    public void APendingSignalInterruptsAWait()
    {
        var (device, port, _) = Make();
        port.Type("x");
        port.Type("y");
        int waits = 0;
        device.InterruptPending = () => ++waits > 2;
        Read(device, 100, false, out long result);
        Assert.That(result, Is.EqualTo(-Errno.EINTR));
    }

    [Test]
    public void AReadThatWouldWaitLetsAnotherThreadRunAndKeepsThePartialLine()
    {
        var (device, port, _) = Make();
        port.Now_("par");
        device.InsteadOfWaiting = () => -530; // the Linux personality's ERESTART_THREAD
        Assert.That(Read(device, 100, false, out long result), Is.EqualTo(""));
        Assert.That(result, Is.EqualTo(-530), "the read gives way instead of waiting");
        Assert.That(port.Waits, Is.EqualTo(0), "it did not wait");
        device.InsteadOfWaiting = () => 0; // no other thread can run: it waits as before
        port.Type("tial\r");
        Assert.That(Read(device, 100, false, out result), Is.EqualTo("partial\n"), "the bytes typed before the restart are still there");
        Assert.That(port.Waits, Is.EqualTo(1));
    }

    [Test]
    public void InterruptCharacterSignalsTheForegroundGroup()
    {
        var (device, port, memory) = Make();
        var got = new List<(int, int)>();
        device.SignalHook = (signal, group) => got.Add((signal, group));
        Assert.That(device.Ioctl(TerminalIoctls.TIOCGPGRP, FakeMemory.Base, memory), Is.EqualTo(0));
        memory.SetInt(0, 12);
        Assert.That(device.Ioctl(TerminalIoctls.TIOCSPGRP, FakeMemory.Base, memory), Is.EqualTo(0));
        port.Now_("sleep 100\r");
        port.Now_("\u0003");
        device.Pump(int.MaxValue);
        Assert.That(got, Is.EqualTo(new List<(int, int)> { (TerminalSignals.SIGINT, 12) }));
        Assert.That(port.Shown.ToString(), Does.EndWith("^C"));
        port.Now_("\u001a\u001c");
        device.Pump(int.MaxValue);
        Assert.That(got.Count, Is.EqualTo(3));
        Assert.That(got[1], Is.EqualTo((TerminalSignals.SIGTSTP, 12)));
        Assert.That(got[2], Is.EqualTo((TerminalSignals.SIGQUIT, 12)));
    }

    [Test]
    public void WithoutAHookSignalsAreCountedNotActedOn()
    {
        var (device, port, _) = Make();
        port.Now_("abc\u0003def\r");
        device.Pump(int.MaxValue);
        Assert.That(device.UndeliveredSignals, Is.EqualTo(1));
        Assert.That(Read(device, 100, true, out _), Is.EqualTo("def\n"), "the input before ^C was flushed");
    }

    [Test]
    public void KeyboardScanCodesAreTypedText()
    {
        var (device, port, _) = Make();
        // l s Enter, with releases
        port.Script.Enqueue((true, new byte[] { 0x26, 0xA6, 0x1F, 0x9F, 0x1C, 0x9C }));
        Assert.That(Read(device, 100, false, out _), Is.EqualTo("ls\n"));
        Assert.That(port.Shown.ToString(), Is.EqualTo("ls\r\n"));
    }

    [Test]
    public void RawReadWithVminWaitsForThatManyBytes()
    {
        var (device, port, memory) = Make();
        MakeRaw(device, memory, 3, 0);
        port.Type("a");
        port.Type("bc");
        port.Type("d");
        Assert.That(Read(device, 100, false, out _), Is.EqualTo("abc"));
        Assert.That(port.Waits, Is.EqualTo(2));
        Assert.That(port.Shown.ToString(), Is.EqualTo(""), "echo off");
    }

    [Test]
    public void RawReadVminIsCappedByTheReadLength()
    {
        var (device, port, memory) = Make();
        MakeRaw(device, memory, 5, 0);
        port.Type("ab");
        Assert.That(Read(device, 2, false, out _), Is.EqualTo("ab"));
    }

    [Test]
    public void RawReadWithVminZeroVtimeZeroNeverWaits()
    {
        var (device, port, memory) = Make();
        MakeRaw(device, memory, 0, 0);
        Read(device, 10, false, out long result);
        Assert.That(result, Is.EqualTo(0));
        Read(device, 10, true, out result);
        Assert.That(result, Is.EqualTo(0), "MIN 0 TIME 0 returns 0 even with O_NONBLOCK, as Linux");
        Assert.That(port.Waits, Is.EqualTo(0));
    }

    [Test]
    public void RawReadWithVtimeTimesOut()
    {
        var (device, port, memory) = Make();
        MakeRaw(device, memory, 0, 5);
        Read(device, 10, false, out long result);
        Assert.That(result, Is.EqualTo(0));
        Assert.That(port.Now, Is.EqualTo(500), "five tenths of a second");
        port.Type("k");
        Assert.That(Read(device, 10, false, out _), Is.EqualTo("k"));
    }

    [Test]
    public void RawReadWithVminAndVtimeUsesAnInterByteTimer()
    {
        var (device, port, memory) = Make();
        MakeRaw(device, memory, 4, 1);
        port.Type("x");
        // Then nothing: the 100 ms timer after the first byte ends the read with 1 byte.
        Assert.That(Read(device, 10, false, out _), Is.EqualTo("x"));
        Assert.That(port.Now, Is.LessThanOrEqualTo(110));
    }

    [Test]
    public void NonBlockingRawReadReturnsWhatIsThere()
    {
        var (device, port, memory) = Make();
        MakeRaw(device, memory, 4, 0);
        port.Now_("ab");
        Assert.That(Read(device, 10, true, out _), Is.EqualTo("ab"));
        Read(device, 10, true, out long result);
        Assert.That(result, Is.EqualTo(-Errno.EAGAIN));
    }

    [Test]
    public void WriteAppliesOutputProcessing()
    {
        var (device, port, _) = Make();
        Assert.That(device.Write(Encoding.Latin1.GetBytes("a\nb")), Is.EqualTo(3));
        Assert.That(port.Shown.ToString(), Is.EqualTo("a\r\nb"));
    }

    [Test]
    public void StoppedOutputMakesANonBlockingWriteEagainAndControlQRestartsIt()
    {
        var (device, port, _) = Make();
        port.Now_("\u0013");
        Assert.That(device.Write(new byte[] { (byte)'z' }, nonBlocking: true), Is.EqualTo(-Errno.EAGAIN));
        port.Type("\u0011");
        Assert.That(device.Write(new byte[] { (byte)'z' }), Is.EqualTo(1));
        Assert.That(port.Shown.ToString(), Is.EqualTo("z"));
    }

    /// <summary>A write looks only for ^S and ^Q (and the signal characters), which act when they
    /// come; the line typed behind ^S stays for its reader (a background job's write took the
    /// shell's next command line).</summary>
    [Test]
    public void AWriteTakesTheControlCharactersAndLeavesTheLineBehindThemForItsReader()
    {
        var (device, port, _) = Make();
        port.Now_("\u0013ls\r");
        Assert.That(device.Write(new byte[] { (byte)'z' }, nonBlocking: true), Is.EqualTo(-Errno.EAGAIN), "^S stopped the output");
        Assert.That(Encoding.Latin1.GetString(port.Arrived[0].bytes), Is.EqualTo("ls\r"));
        port.Now_("\u0011");
        Assert.That(device.Write(new byte[] { (byte)'z' }), Is.EqualTo(1));
        Assert.That(Read(device, 10, true, out _), Is.EqualTo("ls\n"), "taken with the ^Q behind it, and read");
    }

    [Test]
    public void TcgetsAndTcsetsRoundTripTheSettings()
    {
        var (device, _, memory) = Make();
        Assert.That(device.Ioctl(TerminalIoctls.TCGETS, FakeMemory.Base, memory), Is.EqualTo(0));
        byte[] expected = new byte[Termios.Size];
        Termios.LinuxDefault().Encode(expected);
        Assert.That(memory.Bytes.Take(Termios.Size), Is.EqualTo(expected));
        memory.Bytes[12] &= unchecked((byte)~TermiosBits.ECHO);
        Assert.That(device.Ioctl(TerminalIoctls.TCSETSW, FakeMemory.Base, memory), Is.EqualTo(0));
        Assert.That(device.Discipline.Settings.LocalFlags & TermiosBits.ECHO, Is.EqualTo(0u));
        Array.Clear(memory.Bytes);
        Assert.That(device.Ioctl(TerminalIoctls.TCGETS2, FakeMemory.Base, memory), Is.EqualTo(0));
        Assert.That(memory.Bytes[12] & TermiosBits.ECHO, Is.EqualTo(0));
        Assert.That(memory.Int(36), Is.EqualTo(38400), "termios2's input speed");
        Assert.That(memory.Int(40), Is.EqualTo(38400));
    }

    [Test]
    public void TcsetsfFlushesPendingInput()
    {
        var (device, port, memory) = Make();
        port.Now_("typed ahead\r");
        device.Pump(int.MaxValue);
        device.Ioctl(TerminalIoctls.TCGETS, FakeMemory.Base, memory);
        Assert.That(device.Ioctl(TerminalIoctls.TCSETSF, FakeMemory.Base, memory), Is.EqualTo(0));
        Read(device, 100, true, out long result);
        Assert.That(result, Is.EqualTo(-Errno.EAGAIN));
    }

    [Test]
    public void BadPointersAreEfault()
    {
        var (device, _, memory) = Make();
        foreach (uint request in new[] { TerminalIoctls.TCGETS, TerminalIoctls.TCSETS, TerminalIoctls.TIOCGWINSZ,
                     TerminalIoctls.TIOCSWINSZ, TerminalIoctls.FIONREAD, TerminalIoctls.TIOCGPGRP, TerminalIoctls.TIOCSPGRP })
        {
            Assert.That(device.Ioctl(request, 0, memory), Is.EqualTo(-Errno.EFAULT), request.ToString("x"));
            Assert.That(device.Ioctl(request, FakeMemory.Base + 0x1000 - 2, memory), Is.EqualTo(-Errno.EFAULT), request.ToString("x"));
        }
    }

    [Test]
    public void UnknownRequestsAreEnotty()
    {
        var (device, _, memory) = Make();
        Assert.That(device.Ioctl(0x1234, FakeMemory.Base, memory), Is.EqualTo(-Errno.ENOTTY));
        Assert.That(device.Ioctl(0x5401UL | (1UL << 40), FakeMemory.Base, memory), Is.EqualTo(-Errno.ENOTTY));
        Assert.That(device.Ioctl(0x4B33, FakeMemory.Base, memory), Is.EqualTo(-Errno.ENOTTY), "KDGKBTYPE: a vt ioctl this tty lacks");
    }

    [Test]
    public void WindowSizeIsTheVgasOrSerialsAndCanBeSet()
    {
        var (device, _, memory) = Make(25);
        Assert.That(device.Ioctl(TerminalIoctls.TIOCGWINSZ, FakeMemory.Base, memory), Is.EqualTo(0));
        Assert.That(memory.Bytes.Take(4), Is.EqualTo(new byte[] { 25, 0, 80, 0 }));
        var (serial, _, serialMemory) = Make(24);
        serial.Ioctl(TerminalIoctls.TIOCGWINSZ, FakeMemory.Base, serialMemory);
        Assert.That(serialMemory.Bytes.Take(4), Is.EqualTo(new byte[] { 24, 0, 80, 0 }));

        var signals = new List<int>();
        device.SignalHook = (signal, group) => signals.Add(signal);
        device.Ioctl(TerminalIoctls.TIOCGPGRP, FakeMemory.Base + 100, memory);
        new byte[] { 50, 0, 132, 0, 0, 0, 0, 0 }.CopyTo(memory.Bytes, 0);
        Assert.That(device.Ioctl(TerminalIoctls.TIOCSWINSZ, FakeMemory.Base, memory), Is.EqualTo(0));
        Array.Clear(memory.Bytes);
        device.Ioctl(TerminalIoctls.TIOCGWINSZ, FakeMemory.Base, memory);
        Assert.That(memory.Bytes.Take(4), Is.EqualTo(new byte[] { 50, 0, 132, 0 }));
        Assert.That(signals, Is.EqualTo(new[] { TerminalSignals.SIGWINCH }));
    }

    [Test]
    public void FionreadCountsReadableBytes()
    {
        var (device, port, memory) = Make();
        port.Now_("ab\rcd");
        Assert.That(device.Ioctl(TerminalIoctls.FIONREAD, FakeMemory.Base, memory), Is.EqualTo(0));
        Assert.That(memory.Int(0), Is.EqualTo(3), "the completed line only");
        Assert.That(device.Ioctl(TerminalIoctls.TIOCOUTQ, FakeMemory.Base, memory), Is.EqualTo(0));
        Assert.That(memory.Int(0), Is.EqualTo(0));
    }

    [Test]
    public void ProcessGroupIoctlsFollowTheControllingSession()
    {
        var (device, _, memory) = Make();
        Assert.That(device.Ioctl(TerminalIoctls.TIOCGPGRP, FakeMemory.Base, memory), Is.EqualTo(0));
        Assert.That(memory.Int(0), Is.EqualTo(7), "the first caller's session took the terminal; its group is in front");
        Assert.That(device.Ioctl(TerminalIoctls.TIOCGSID, FakeMemory.Base, memory), Is.EqualTo(0));
        Assert.That(memory.Int(0), Is.EqualTo(7));

        memory.SetInt(0, -1);
        Assert.That(device.Ioctl(TerminalIoctls.TIOCSPGRP, FakeMemory.Base, memory), Is.EqualTo(-Errno.EINVAL));
        device.GroupInSession = (group, session) => group == 9 && session == 7;
        memory.SetInt(0, 8);
        Assert.That(device.Ioctl(TerminalIoctls.TIOCSPGRP, FakeMemory.Base, memory), Is.EqualTo(-Errno.EPERM));
        memory.SetInt(0, 9);
        Assert.That(device.Ioctl(TerminalIoctls.TIOCSPGRP, FakeMemory.Base, memory), Is.EqualTo(0));
        Assert.That(device.ForegroundGroup, Is.EqualTo(9));

        device.Caller = () => new TerminalCaller { ProcessId = 20, ProcessGroup = 20, Session = 20 };
        Assert.That(device.Ioctl(TerminalIoctls.TIOCGPGRP, FakeMemory.Base, memory), Is.EqualTo(-Errno.ENOTTY), "not its controlling terminal");
        Assert.That(device.Ioctl(TerminalIoctls.TIOCSCTTY, 0, memory), Is.EqualTo(-Errno.EPERM), "another session holds it");
        device.Caller = () => new TerminalCaller { ProcessId = 21, ProcessGroup = 20, Session = 20 };
        Assert.That(device.Ioctl(TerminalIoctls.TIOCSCTTY, 1, memory), Is.EqualTo(-Errno.EPERM), "not a session leader");

        device.Caller = () => new TerminalCaller { ProcessId = 7, ProcessGroup = 7, Session = 7 };
        Assert.That(device.Ioctl(TerminalIoctls.TIOCNOTTY, 0, memory), Is.EqualTo(0));
        Assert.That(device.Session, Is.EqualTo(0));
        device.Caller = () => new TerminalCaller { ProcessId = 20, ProcessGroup = 20, Session = 20 };
        Assert.That(device.Ioctl(TerminalIoctls.TIOCSCTTY, 0, memory), Is.EqualTo(0));
        Assert.That((device.Session, device.ForegroundGroup), Is.EqualTo((20, 20)));
    }

    [Test]
    public void FlushAndFlowControlRequests()
    {
        var (device, port, memory) = Make();
        port.Now_("x\r");
        device.Pump(int.MaxValue);
        Assert.That(device.Ioctl(TerminalIoctls.TCFLSH, 0, memory), Is.EqualTo(0));
        Assert.That(device.PollReadable(), Is.False);
        Assert.That(device.Ioctl(TerminalIoctls.TCFLSH, 3, memory), Is.EqualTo(-Errno.EINVAL));
        Assert.That(device.Ioctl(TerminalIoctls.TCXONC, 0, memory), Is.EqualTo(0));
        Assert.That(device.Write(new byte[] { 1 }, nonBlocking: true), Is.EqualTo(-Errno.EAGAIN));
        Assert.That(device.Ioctl(TerminalIoctls.TCXONC, 1, memory), Is.EqualTo(0));
        Assert.That(device.Ioctl(TerminalIoctls.TCXONC, 2, memory), Is.EqualTo(0));
        Assert.That(port.Shown.ToString(), Is.EqualTo("x\r\n\u0013"), "TCIOFF sends the STOP character");
        Assert.That(device.Ioctl(TerminalIoctls.TCXONC, 9, memory), Is.EqualTo(-Errno.EINVAL));
        Assert.That(device.Ioctl(TerminalIoctls.TCSBRK, 1, memory), Is.EqualTo(0), "tcdrain");
    }

    [Test]
    public void PollReadableFollowsTheMode()
    {
        var (device, port, memory) = Make();
        port.Now_("ab");
        Assert.That(device.PollReadable(), Is.False, "no complete line");
        port.Now_("\r");
        Assert.That(device.PollReadable(), Is.True);
        Read(device, 10, true, out _);
        MakeRaw(device, memory, 1, 0);
        Assert.That(device.PollReadable(), Is.False);
        port.Now_("k");
        Assert.That(device.PollReadable(), Is.True);
    }

    /// <summary>Outside canonical mode the device asks the port for what the call is about to
    /// read and no more: a read its buffer's length, poll one byte, a write and a process blocked
    /// elsewhere none, FIONREAD everything. So bytes behind a shell's one-byte reads stay in the
    /// terminal for the command it starts (a paste of "cat > f", its lines and ^D gave cat nothing).</summary>
    [Test]
    public void ARawReadTakesOnlyTheBytesItReadsAndLeavesTheRestInTheTerminal()
    {
        var (device, port, memory) = Make();
        MakeRaw(device, memory, 1, 0);
        port.Now_("cat\rline one\r");
        var line = new StringBuilder();
        for (int i = 0; i < 4; i++)
        {
            int arrived = port.Arrived[0].bytes.Length;
            Assert.That(device.PollReadable(), Is.True);
            Assert.That(port.Arrived[0].bytes.Length, Is.EqualTo(arrived), "poll looks without taking");
            line.Append(Read(device, 1, false, out _));
            Assert.That(port.Wants[^1], Is.EqualTo(1), "a one-byte read takes one");
        }
        Assert.That(line.ToString(), Is.EqualTo("cat\n"), "ICRNL is still on");
        Assert.That(device.Write("\r\n"u8), Is.EqualTo(2));
        Assert.That(port.Wants[^1], Is.EqualTo(0), "a write takes no input");
        Assert.That(device.PumpIfForeground(), Is.False, "nor does a process blocked elsewhere");
        Assert.That(port.Arrived.Count, Is.EqualTo(1));
        Assert.That(Encoding.Latin1.GetString(port.Arrived[0].bytes), Is.EqualTo("line one\r"), "the next line is still the terminal's, for the command");

        Assert.That(device.Ioctl(TerminalIoctls.FIONREAD, FakeMemory.Base, memory), Is.EqualTo(0));
        Assert.That(port.Wants[^1], Is.EqualTo(int.MaxValue));
        Assert.That(memory.Int(0), Is.EqualTo("line one\r".Length), "FIONREAD counts everything typed");
        Assert.That(Read(device, 100, false, out _), Is.EqualTo("line one\n"), "a large read takes what is there");
    }

    /// <summary>A process blocked elsewhere (wait4, nanosleep) takes only control characters, and
    /// only in the foreground group: a line stays for whoever reads it.</summary>
    [Test]
    public void AProcessBlockedElsewhereTakesOnlyControlCharactersAndOnlyInTheForeground()
    {
        var (device, port, memory) = Make();
        device.Ioctl(TerminalIoctls.TIOCGPGRP, FakeMemory.Base, memory); // session 7 takes the terminal
        device.ForegroundGroup = 30;                                     // a job in front
        port.Now_("y\r");
        Assert.That(device.PumpIfForeground(), Is.False, "the shell (group 7) waits in wait4: it must not take the job's input");
        Assert.That(port.Arrived.Count, Is.EqualTo(1));
        device.Caller = () => new TerminalCaller { ProcessId = 31, ProcessGroup = 30, Session = 7 };
        Assert.That(device.PumpIfForeground(), Is.False, "a line is the reader's: the job takes it when it reads");
        port.Now_("\u0003");
        Assert.That(device.PumpIfForeground(), Is.True, "^C acts when it comes");
        Assert.That(port.Arrived.Count, Is.EqualTo(0));
        Assert.That(device.UndeliveredSignals, Is.EqualTo(1));
    }

    [Test]
    public void TheFirstReadersSessionTakesTheTerminalSoControlCHasAGroup()
    {
        var (device, port, _) = Make();
        var got = new List<(int, int)>();
        device.SignalHook = (signal, group) => got.Add((signal, group));
        Read(device, 10, true, out _);
        Assert.That((device.Session, device.ForegroundGroup), Is.EqualTo((7, 7)));
        port.Now_("\u0003");
        device.Pump(int.MaxValue);
        Assert.That(got, Is.EqualTo(new List<(int, int)> { (TerminalSignals.SIGINT, 7) }));
    }

    [Test]
    public void ABackgroundWriterLeavesTheInputAlone()
    {
        var (device, port, _) = Make();
        Read(device, 10, true, out _);
        device.ForegroundGroup = 30;
        port.Now_("typed\r");
        device.Write(new byte[] { (byte)'o' });
        Assert.That(port.Arrived.Count, Is.EqualTo(1), "still in the ring for the foreground job");
    }

    [Test]
    public void TiocstiInjectsInput()
    {
        var (device, _, memory) = Make();
        memory.Bytes[0] = (byte)'q';
        Assert.That(device.Ioctl(TerminalIoctls.TIOCSTI, FakeMemory.Base, memory), Is.EqualTo(0));
        memory.Bytes[0] = (byte)'\r';
        device.Ioctl(TerminalIoctls.TIOCSTI, FakeMemory.Base, memory);
        Assert.That(Read(device, 10, true, out _), Is.EqualTo("q\n"));
    }
}

public class LinuxTerminalControlStateTests
{
    private sealed class NullPort : ITerminalPort
    {
        public int Depth;
        public bool Pump(TerminalDevice device, int want) => false;
        public bool InputWaiting(TerminalDevice device) => false;
        public bool Wait(ulong deadline) => false;
        public ulong NowMilliseconds => 0;
        public void Display(ReadOnlySpan<byte> bytes) { }
        public void Enter(TerminalDevice device) => Depth++;
        public void Leave(TerminalDevice device) => Depth--;
    }

    private sealed class Memory : IProgramMemory
    {
        public readonly byte[] Bytes = new byte[64];
        public bool CopyIn(ulong address, Span<byte> destination)
        {
            if (address != 0x1000) return false;
            Bytes.AsSpan(0, destination.Length).CopyTo(destination);
            return true;
        }
        public bool CopyOut(ulong address, ReadOnlySpan<byte> source)
        {
            if (address != 0x1000) return false;
            source.CopyTo(Bytes);
            return true;
        }
    }

    [Test]
    public void ControlStateCarriesSettingsGroupAndSizeToAnotherProcess()
    {
        var memory = new Memory();
        var parent = new TerminalDevice(new NullPort(), 25, 80);
        parent.CallerDefault = new TerminalCaller { ProcessId = 1, ProcessGroup = 1, Session = 1 };
        var child = new TerminalDevice(new NullPort(), 25, 80);
        child.CallerDefault = new TerminalCaller { ProcessId = 2, ProcessGroup = 2, Session = 1 };
        byte[] shared = new byte[TerminalDevice.ControlStateSize];
        parent.SaveControl(shared);
        child.LoadControl(shared);

        // The child (a job the shell started) puts its group in front and turns echo off.
        BitConverter.GetBytes(2).CopyTo(memory.Bytes, 0);
        Assert.That(child.Ioctl(TerminalIoctls.TIOCSPGRP, 0x1000, memory), Is.EqualTo(0), "same session, so its controlling terminal");
        child.Ioctl(TerminalIoctls.TCGETS, 0x1000, memory);
        memory.Bytes[12] &= unchecked((byte)~TermiosBits.ECHO);
        child.Ioctl(TerminalIoctls.TCSETS, 0x1000, memory);
        child.SaveControl(shared);

        parent.LoadControl(shared);
        Assert.That(parent.ForegroundGroup, Is.EqualTo(2));
        Assert.That(parent.Session, Is.EqualTo(1));
        Assert.That(parent.Discipline.Settings.LocalFlags & TermiosBits.ECHO, Is.EqualTo(0u));
        Assert.That(parent.Size.Rows, Is.EqualTo(25));
    }

    [Test]
    public void LoadingUnchangedSettingsKeepsTheLineBeingEdited()
    {
        var device = new TerminalDevice(new NullPort(), 25, 80);
        device.Discipline.Receive(System.Text.Encoding.ASCII.GetBytes("abc"));
        byte[] shared = new byte[TerminalDevice.ControlStateSize];
        device.SaveControl(shared);
        device.LoadControl(shared);
        Assert.That(device.Discipline.EditingLength, Is.EqualTo(3));
    }

    [Test]
    public void EveryOperationIsBracketedByEnterAndLeave()
    {
        var port = new NullPort();
        var device = new TerminalDevice(port, 25, 80);
        var memory = new Memory();
        device.Ioctl(TerminalIoctls.TCGETS, 0x1000, memory);
        device.Ioctl(TerminalIoctls.TCGETS, 0, memory);
        device.Ioctl(0x9999, 0, memory);
        device.Read(new byte[4], true);
        device.Read(new byte[4], false);
        device.Write(new byte[] { 1 });
        device.PollReadable();
        device.Pump(int.MaxValue);
        Assert.That(port.Depth, Is.EqualTo(0));
    }
}
