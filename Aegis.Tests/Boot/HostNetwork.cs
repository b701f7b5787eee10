// The host's side of the network boot tests (NetworkStackTests, NetworkDeliveryTests,
// LinuxSocketBootTests, LinuxNginxTests): free loopback ports for --forward, waiting for a line
// of the guest's output, curl's downloads, the nginx test documents' content, and a DNS server of
// the test's own (HostDnsServer).
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

public static class HostNetwork
{
    /// <summary>The host's end of ./aegis run --wire PORT: a UDP socket bound to 127.0.0.1:PORT
    /// (the card's frames arrive there) for a PORT whose PORT+1 is free too (QEMU binds it and
    /// reads the frames sent to it). Send frames to <paramref name="qemu"/>.</summary>
    public static UdpClient BindWireEnd(out int port, out IPEndPoint qemu)
    {
        for (int attempt = 0; ; attempt++)
        {
            int candidate = 20000 + Random.Shared.Next(40000);
            UdpClient socket = null;
            try
            {
                socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, candidate));
                using (new UdpClient(new IPEndPoint(IPAddress.Loopback, candidate + 1))) { } // free now: QEMU takes it
                port = candidate;
                qemu = new IPEndPoint(IPAddress.Loopback, candidate + 1);
                return socket;
            }
            catch (SocketException) when (attempt < 50) { socket?.Dispose(); }
        }
    }

    /// <summary>A TCP port of the host's loopback nobody uses now.</summary>
    public static int FreeTcpPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Waits until the output holds text (the test fails after 'seconds'). The kernel's
    /// echo of init's argument ("Aegis: started ... as init with the argument '...'") does not
    /// count: a marker the guest prints (echo stopped) is in that line too, before the guest ran it.</summary>
    public static void WaitFor(Func<string> output, string text, int seconds = 100)
    {
        var waited = Stopwatch.StartNew();
        while (!WithoutInitsArgument(output()).Contains(text))
        {
            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(seconds)), () => $"no '{text}'; the output so far:\n" + output());
            Thread.Sleep(50);
        }
    }

    /// <summary>The output without the lines that echo init's argument before the guest ran it: the
    /// front door's QEMU command (its -fw_cfg holds the kernel's command line) and the kernel's
    /// "started ... as init with the argument" line.</summary>
    public static string WithoutInitsArgument(string output)
    {
        output = WithoutFrontDoorCommand(output);
        int at = output.IndexOf("Aegis: started ", StringComparison.Ordinal);
        if (at < 0) return output;
        int end = output.IndexOf('\n', at);
        string line = end < 0 ? output[at..] : output[at..end];
        if (!line.Contains(" as init with the argument '", StringComparison.Ordinal)) return output;
        return output[..at] + (end < 0 ? "" : output[(end + 1)..]);
    }

    /// <summary>Without the front door's echo of the QEMU command it runs ("aegis: ... -fw_cfg
    /// name=opt/aegis/cmdline,string=..."): a marker in init's argument was "seen" there at once,
    /// so the wget test's curl ran while the guest booted and its SYN could meet the guest's stack
    /// before httpd listened (reset: "curl: (56)").</summary>
    private static string WithoutFrontDoorCommand(string output)
    {
        int at = output.IndexOf("opt/aegis/cmdline", StringComparison.Ordinal);
        if (at < 0) return output;
        int start = output.LastIndexOf('\n', at) + 1;
        int end = output.IndexOf('\n', at);
        return WithoutFrontDoorCommand(output[..start] + (end < 0 ? "" : output[(end + 1)..]));
    }

    /// <summary>Why the last Curl that failed failed (curl's exit status and message).</summary>
    public static string LastCurlError = "";

    /// <summary>curl's download of URL into a file; its bytes (null when curl failed: LastCurlError says why).</summary>
    public static byte[] Curl(string url, params string[] extra)
    {
        string file = Path.GetTempFileName();
        try
        {
            var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string e in extra) start.ArgumentList.Add(e);
            foreach (string a in new[] { "-s", "-S", "--max-time", "60", "-o", file, url }) start.ArgumentList.Add(a);
            using Process curl = Process.Start(start)!;
            Task<string> errors = curl.StandardError.ReadToEndAsync();
            curl.WaitForExit(70_000);
            if (curl.ExitCode == 0) return File.ReadAllBytes(file);
            LastCurlError = "curl " + url + ": exit " + curl.ExitCode + ": " + (errors.Wait(5_000) ? errors.Result.Trim() : "");
            return null;
        }
        finally { File.Delete(file); }
    }

    /// <summary>How many connections to one forwarded port may be between connect and their first
    /// answer at once. QEMU's user network listens on a --forward host port with a backlog of 1
    /// (`ss -ltn` shows 1), so the host's kernel queues two finished handshakes for QEMU to accept.
    /// A burst beyond that loses final ACKs: the client believes it is connected, QEMU never accepts,
    /// and the guest never sees the connection (CI, stop 40: 7 of 100 clients got no answer in 30 s
    /// and the wire held 93 connections). The guest cannot do anything about it, so tests admit
    /// connections through a ForwardedPortGate and make them concurrent after their first answer.</summary>
    public const int QemuAcceptQueue = 2;

    /// <summary>Runs body(0) .. body(count - 1) each on a thread of its own and waits for all. (Not
    /// Parallel.For: connections that wait for each other at a ForwardedPortGate would starve the
    /// thread pool, which adds threads about two a second.)</summary>
    public static void OnThreads(int count, Action<int> body)
    {
        var threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            int index = i;
            threads[i] = new Thread(() => body(index)) { IsBackground = true };
            threads[i].Start();
        }
        foreach (Thread t in threads) t.Join();
    }

    /// <summary>The nginx test documents' content (docs/network.md, "nginx"): 'count' lines, line N
    /// N in ten digits and a fixed text, 64 bytes with its newline.</summary>
    public static string NumberedLines(int count)
    {
        var text = new StringBuilder(count * 64);
        for (int i = 0; i < count; i++) text.Append(i.ToString("D10")).Append(" aegis nginx test document: line of sixty-four bytes.\n");
        return text.ToString();
    }
}

/// <summary>A DNS server of a test's own on the host's loopback (UDP), which QEMU's user network
/// shows the guest as 10.0.2.2: it answers A queries for the names it was given (through a CNAME
/// when one was named), "no data" for their other types (AAAA), "no such name" for every other name,
/// and counts the queries for each name. A datagram it cannot parse is counted and left unanswered
/// (CI once saw one: a parse that threw in the serving thread took the whole test host down).</summary>
public sealed class HostDnsServer : IDisposable
{
    private readonly UdpClient _socket;
    private readonly Thread _serving;
    private readonly ConcurrentDictionary<string, (IPAddress Address, string Canonical)> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _queries = new(StringComparer.OrdinalIgnoreCase);
    private int _malformed;

    /// <summary>Serves on 127.0.0.1:port (0: a port of the system's choice).</summary>
    public HostDnsServer(int port = 0)
    {
        _socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
        Port = ((IPEndPoint)_socket.Client.LocalEndPoint!).Port;
        _serving = new Thread(Serve) { IsBackground = true, Name = "host DNS server" };
        _serving.Start();
    }

    /// <summary>Serves on 127.0.0.1:53, the only port glibc's resolver asks (resolv.conf names an
    /// address, never a port; QEMU's guestfwd forwards TCP only): the test fails, saying why, when
    /// the port cannot be bound (it needs root or CAP_NET_BIND_SERVICE, and nothing else there).</summary>
    public static HostDnsServer OnPort53()
    {
        try { return new HostDnsServer(53); }
        catch (SocketException e)
        {
            Assert.Fail($"the test's DNS server cannot bind UDP 127.0.0.1:53 ({e.SocketErrorCode}: {e.Message}): glibc's resolver "
                + "asks port 53 only; run the tests as root (CI does) or with CAP_NET_BIND_SERVICE, with nothing else on that port");
            throw;
        }
    }

    public int Port { get; }

    /// <summary>Datagrams that were no query it could parse.</summary>
    public int Malformed => _malformed;

    /// <summary>name's A record is address; with canonical, name is a CNAME of canonical, whose A record it is.</summary>
    public void Add(string name, IPAddress address, string canonical = null) => _names[name] = (address, canonical);

    /// <summary>Queries for name so far (any type).</summary>
    public int QueriesFor(string name) => _queries.TryGetValue(name, out int count) ? count : 0;

    /// <summary>Queries so far (any name).</summary>
    public int Queries => _queries.Values.Sum();

    public void Dispose()
    {
        _socket.Close();
        _serving.Join(5000);
    }

    private void Serve()
    {
        var from = new IPEndPoint(IPAddress.Any, 0);
        try
        {
            while (true)
            {
                byte[] query = _socket.Receive(ref from);
                byte[] answer;
                try { answer = Answer(query); }
                catch (Exception) { Interlocked.Increment(ref _malformed); continue; }
                _socket.Send(answer, from);
            }
        }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>The answer to one query (RFC 1035 4.1): the header and question copied, then the records.</summary>
    private byte[] Answer(byte[] query)
    {
        if (query.Length < 12 || query[4] != 0 || query[5] != 1) throw new ArgumentException("not one question");
        var labels = new List<string>();
        int at = 12;
        while (query[at] != 0)
        {
            if (query[at] > 63) throw new ArgumentException("a compressed question");
            labels.Add(Encoding.ASCII.GetString(query, at + 1, query[at]));
            at += query[at] + 1;
        }
        string name = string.Join(".", labels);
        int type = query[at + 1] << 8 | query[at + 2];
        int questionEnd = at + 5;
        _queries.AddOrUpdate(name, 1, (_, count) => count + 1);

        var answer = new List<byte>(query.AsSpan(0, questionEnd).ToArray());
        bool known = _names.TryGetValue(name, out var entry);
        answer[2] = (byte)(0x80 | (query[2] & 0x01)); // a response; recursion desired as asked
        answer[3] = (byte)(0x80 | (known ? 0 : 3));  // recursion available; no error, or NXDOMAIN
        answer[6] = answer[7] = answer[8] = answer[9] = answer[10] = answer[11] = 0;
        if (!known || type != 1) return answer.ToArray(); // no such name, or no data of that type
        int addressName = 12; // the A record's name: a pointer to the question's, or to the canonical name
        if (entry.Canonical != null)
        {
            answer.AddRange(new byte[] { 0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60 });
            byte[] canonical = NameBytes(entry.Canonical, name);
            answer.Add((byte)(canonical.Length >> 8));
            answer.Add((byte)canonical.Length);
            addressName = answer.Count;
            answer.AddRange(canonical);
        }
        answer.AddRange(new byte[] { 0xC0, (byte)addressName, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 });
        answer.AddRange(entry.Address.GetAddressBytes());
        answer[7] = (byte)(entry.Canonical != null ? 2 : 1);
        return answer.ToArray();
    }

    /// <summary>A name's labels; a name that ends with the question's ends with a pointer to it (compression, RFC 1035 4.1.4).</summary>
    private static byte[] NameBytes(string name, string question)
    {
        var bytes = new List<byte>();
        string rest = name;
        while (rest.Length > 0)
        {
            if (string.Equals(rest, question, StringComparison.OrdinalIgnoreCase))
            {
                bytes.Add(0xC0);
                bytes.Add(12);
                return bytes.ToArray();
            }
            int dot = rest.IndexOf('.');
            string label = dot < 0 ? rest : rest.Substring(0, dot);
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
            rest = dot < 0 ? "" : rest.Substring(dot + 1);
        }
        bytes.Add(0);
        return bytes.ToArray();
    }
}

/// <summary>Opens 'connections' connections to one forwarded port so that all are open at once:
/// they are admitted QemuAcceptQueue at a time from connect to their first answer
/// (HostNetwork.QemuAcceptQueue says why), and each then waits until every one has had its first
/// answer (or failed) before it goes on. Each connection calls FirstExchange once.</summary>
public sealed class ForwardedPortGate(int connections)
{
    private readonly SemaphoreSlim _establishing = new(HostNetwork.QemuAcceptQueue);
    private readonly CountdownEvent _open = new(connections);

    /// <summary>Runs the connect and first exchange of one connection once it is admitted, then
    /// waits (two minutes at most) for the other connections' first exchanges.</summary>
    public T FirstExchange<T>(Func<T> exchange)
    {
        _establishing.Wait();
        try { return exchange(); }
        finally
        {
            _establishing.Release();
            _open.Signal();
            _open.Wait(TimeSpan.FromMinutes(2));
        }
    }
}
