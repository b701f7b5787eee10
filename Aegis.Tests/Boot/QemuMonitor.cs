// A client of QEMU's human monitor (./aegis run --monitor SOCKET): types on the guest's PS/2
// keyboard with `sendkey` and reads the VGA text buffer with `xp`, so a test can use the machine
// as a person at its screen and keyboard does (docs/front-door.md, --monitor).
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Aegis.Tests.Boot;

public sealed class QemuMonitor : IDisposable
{
    private const string Prompt = "(qemu) ";
    public const int Columns = 80, Rows = 25;

    private readonly Socket _socket;
    private readonly StringBuilder _pending = new();

    private QemuMonitor(Socket socket) => _socket = socket;

    /// <summary>Connects to the monitor's socket, retrying until QEMU has created it or the deadline passes.</summary>
    public static QemuMonitor Connect(string path, TimeSpan limit)
    {
        DateTime deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                socket.ReceiveTimeout = 10_000;
                var monitor = new QemuMonitor(socket);
                monitor.ReadUntilPrompt();
                return monitor;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                Thread.Sleep(200);
            }
        }
    }

    /// <summary>Runs one monitor command and returns what it printed (without the echo and the prompt).</summary>
    public string Command(string command)
    {
        _socket.Send(Encoding.ASCII.GetBytes(command + "\n"));
        string answer = ReadUntilPrompt();
        // The monitor echoes the command line (with terminal escapes) before its answer.
        int newline = answer.IndexOf('\n');
        return newline < 0 ? "" : answer[(newline + 1)..];
    }

    private string ReadUntilPrompt()
    {
        var buffer = new byte[65536];
        while (true)
        {
            string text = _pending.ToString();
            int end = text.IndexOf(Prompt, StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + Prompt.Length);
                return text[..end];
            }
            int count = _socket.Receive(buffer);
            if (count == 0)
                throw new IOException("QEMU closed its monitor");
            _pending.Append(Encoding.ASCII.GetString(buffer, 0, count));
        }
    }

    /// <summary>Types text on the PS/2 keyboard, one key (with shift where needed) per character.</summary>
    public void Type(string text)
    {
        foreach (char c in text)
        {
            string answer = Command("sendkey " + KeyName(c));
            if (answer.Trim().Length != 0)
                throw new InvalidOperationException($"sendkey for '{c}' failed: {answer.Trim()}");
        }
    }

    /// <summary>QEMU's key name for a character on a US keyboard.</summary>
    public static string KeyName(char c) => c switch
    {
        >= 'a' and <= 'z' or >= '0' and <= '9' => c.ToString(),
        >= 'A' and <= 'Z' => "shift-" + char.ToLowerInvariant(c),
        ' ' => "spc", '\n' => "ret", '\t' => "tab",
        '-' => "minus", '=' => "equal", '/' => "slash", '.' => "dot", ',' => "comma", ';' => "semicolon",
        '\'' => "apostrophe", '\\' => "backslash", '[' => "bracket_left", ']' => "bracket_right",
        '_' => "shift-minus", '+' => "shift-equal", '?' => "shift-slash", '>' => "shift-dot", '<' => "shift-comma",
        ':' => "shift-semicolon", '"' => "shift-apostrophe", '|' => "shift-backslash",
        '!' => "shift-1", '@' => "shift-2", '#' => "shift-3", '$' => "shift-4", '%' => "shift-5",
        '^' => "shift-6", '&' => "shift-7", '*' => "shift-8", '(' => "shift-9", ')' => "shift-0",
        _ => throw new ArgumentException($"no key for '{c}'"),
    };

    /// <summary>The VGA text buffer's 25 rows of 80 characters (the low byte of each cell; other
    /// than printable ASCII shows as a space), trailing blanks removed.</summary>
    public string[] ReadScreen()
    {
        string dump = Command($"xp /{Columns * Rows}hx 0xb8000");
        var cells = new List<int>();
        foreach (string line in dump.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            foreach (Match m in Regex.Matches(line[(colon + 1)..], @"0x([0-9a-f]{4})"))
                cells.Add(Convert.ToInt32(m.Groups[1].Value, 16));
        }
        if (cells.Count != Columns * Rows)
            throw new InvalidOperationException($"xp returned {cells.Count} cells, not {Columns * Rows}: {dump}");
        var rows = new string[Rows];
        for (int r = 0; r < Rows; r++)
        {
            var row = new StringBuilder(Columns);
            for (int c = 0; c < Columns; c++)
            {
                int ch = cells[r * Columns + c] & 0xFF;
                row.Append(ch >= 32 && ch < 127 ? (char)ch : ' ');
            }
            rows[r] = row.ToString().TrimEnd();
        }
        return rows;
    }

    /// <summary>Reads the screen until a row satisfies the predicate or the limit passes; returns the
    /// last screen read and whether the row was found.</summary>
    public (string[] Screen, bool Found) WaitForRow(Func<string, bool> predicate, TimeSpan limit)
    {
        DateTime deadline = DateTime.UtcNow + limit;
        string[] screen;
        while (true)
        {
            screen = ReadScreen();
            if (screen.Any(predicate))
                return (screen, true);
            if (DateTime.UtcNow > deadline)
                return (screen, false);
            Thread.Sleep(500);
        }
    }

    public void Dispose() => _socket.Dispose();
}
