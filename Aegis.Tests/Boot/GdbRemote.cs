// A minimal client of QEMU's gdb stub (GDB's remote serial protocol: "$data#checksum" packets,
// each acknowledged with '+'), started at run time with the monitor's `gdbserver` command. A boot
// test uses it to stop the guest at a chosen kernel address (a breakpoint), look at the machine
// through the monitor while it is stopped there, and let it run on: a state that a snapshot at a
// random moment catches only sometimes (inside an interrupt handler) is then caught every time.
using System.Net.Sockets;
using System.Text;

namespace Aegis.Tests.Boot;

public sealed class GdbRemote : IDisposable
{
    private readonly Socket _socket;

    private GdbRemote(Socket socket) => _socket = socket;

    /// <summary>Starts the stub on a Unix socket in 'directory' and connects; QEMU stops the guest
    /// when a debugger connects.</summary>
    public static GdbRemote Start(QemuMonitor monitor, string directory)
    {
        string path = Path.Combine(directory, "gdb.sock");
        string answer = monitor.Command($"gdbserver unix:{path},server=on,wait=off");
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                socket.ReceiveTimeout = 20_000;
                var stub = new GdbRemote(socket);
                stub.Request("?"); // the stop reason; also proves the stub answers
                return stub;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                Thread.Sleep(100);
            }
            catch (SocketException e)
            {
                throw new IOException("QEMU's gdb stub did not start: " + answer.Trim(), e);
            }
        }
    }

    /// <summary>Runs the guest until it executes 'address' (a software breakpoint); the guest is
    /// stopped there on return. Returns the stop reply (e.g. "T05thread:01;").</summary>
    public string RunTo(ulong address)
    {
        Expect(Request($"Z0,{address:x},1"), "OK", "setting the breakpoint");
        string stop = Request("c");
        Expect(Request($"z0,{address:x},1"), "OK", "removing the breakpoint");
        return stop;
    }

    /// <summary>Detaches: the guest runs on as before the stub connected.</summary>
    public void Detach() => Request("D");

    public void Dispose() => _socket.Dispose();

    private static void Expect(string reply, string expected, string what)
    {
        if (reply != expected) throw new IOException($"gdb stub, {what}: '{reply}'");
    }

    /// <summary>Sends one packet and returns the data of the stub's reply packet. A stop reply
    /// ("T..") that answers no stop question (QEMU sends one of its own when the debugger
    /// connects) is skipped.</summary>
    private string Request(string data)
    {
        byte sum = 0;
        foreach (char c in data) sum += (byte)c;
        _socket.Send(Encoding.ASCII.GetBytes($"${data}#{sum:x2}"));
        while (true)
        {
            string reply = ReadPacket(data);
            if (data is "?" or "c" || !reply.StartsWith('T')) return reply;
        }
    }

    private string ReadPacket(string data)
    {
        // The stub acknowledges with '+' (or asks again with '-'), then sends "$reply#cs".
        var reply = new StringBuilder();
        bool inPacket = false;
        int checksumDigits = -1;
        var one = new byte[1];
        while (true)
        {
            if (_socket.Receive(one) == 0) throw new IOException("QEMU closed its gdb stub");
            char c = (char)one[0];
            if (checksumDigits >= 0)
            {
                if (++checksumDigits == 2)
                {
                    _socket.Send("+"u8.ToArray());
                    return reply.ToString();
                }
            }
            else if (inPacket)
            {
                if (c == '#') checksumDigits = 0;
                else reply.Append(c);
            }
            else if (c == '$') inPacket = true;
            else if (c == '-') throw new IOException("gdb stub refused a packet: " + data);
        }
    }
}
