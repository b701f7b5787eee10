// dotnetnet: .NET's networking on Aegis (issue #12): TcpListener and TcpClient, async sockets
// (the runtime's epoll engine and its threads), HttpListener served to HttpClient, UDP, all over
// 127.0.0.1. Every line it prints is a fact that must be the same on any Linux.
using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;

internal static class Program
{
    private static int s_failures;

    private static void Check(bool ok, string what)
    {
        Console.WriteLine(what + ": " + (ok ? "ok" : "FAILED"));
        if (!ok) s_failures++;
    }

    private static async Task TcpEcho()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Check(port > 0, "TcpListener on 127.0.0.1 port 0 gets a port");
        Task<TcpClient> accepting = listener.AcceptTcpClientAsync();
        using var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(IPAddress.Loopback, port);
        using TcpClient server = await accepting;
        Check(((IPEndPoint)server.Client.RemoteEndPoint).Address.Equals(IPAddress.Loopback), "the accepted peer is 127.0.0.1");
        NetworkStream a = client.GetStream(), b = server.GetStream();
        byte[] message = new byte[100_000];
        for (int i = 0; i < message.Length; i++) message[i] = (byte)(i * 7 + 3);
        Task writing = a.WriteAsync(message, 0, message.Length);
        byte[] got = new byte[message.Length];
        int total = 0;
        while (total < got.Length)
        {
            int n = await b.ReadAsync(got, total, got.Length - total);
            if (n <= 0) break;
            total += n;
        }
        await writing;
        bool same = total == message.Length;
        for (int i = 0; same && i < total; i++) same = got[i] == message[i];
        Check(same, "100,000 bytes cross a TCP connection intact (async)");
        client.Client.Shutdown(SocketShutdown.Send);
        Check(await b.ReadAsync(got, 0, 1) == 0, "the peer's shutdown reads as the end");
        listener.Stop();
    }

    private static async Task Http()
    {
        // A free port for HttpListener: one TcpListener gets it, then lets it go.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var http = new HttpListener();
        http.Prefixes.Add("http://127.0.0.1:" + port + "/");
        http.Start();
        Task serving = Task.Run(async () =>
        {
            for (int i = 0; i < 3; i++)
            {
                HttpListenerContext context = await http.GetContextAsync();
                byte[] body = Encoding.ASCII.GetBytes("hello " + context.Request.Url.AbsolutePath + " from HttpListener");
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body, 0, body.Length);
                context.Response.Close();
            }
        });
        using var client = new HttpClient();
        for (int i = 0; i < 3; i++)
        {
            string text = await client.GetStringAsync("http://127.0.0.1:" + port + "/doc" + i);
            Console.WriteLine("HttpClient got: " + text);
        }
        await serving;
        http.Stop();
    }

    private static async Task Udp()
    {
        using var a = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var b = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var to = (IPEndPoint)b.Client.LocalEndPoint;
        await a.SendAsync(Encoding.ASCII.GetBytes("datagram"), 8, to);
        UdpReceiveResult r = await b.ReceiveAsync();
        Check(Encoding.ASCII.GetString(r.Buffer) == "datagram" && r.RemoteEndPoint.Port == ((IPEndPoint)a.Client.LocalEndPoint).Port,
            "a UDP datagram and its sender");
    }

    private static int Main()
    {
        Console.WriteLine("== dotnetnet");
        TcpEcho().GetAwaiter().GetResult();
        Http().GetAwaiter().GetResult();
        Udp().GetAwaiter().GetResult();
        Console.WriteLine("failures: " + s_failures);
        return s_failures == 0 ? 0 : 1;
    }
}
