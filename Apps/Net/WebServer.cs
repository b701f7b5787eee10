// The web server of the app net (issue #12; docs/network.md "The web server"): HTTP/1.1 with
// keep-alive over LibOS.Net's TCP, serving documents it keeps in memory. What only a libOS can
// do, so far: each document's response — status line and headers included — is built once, when
// the server starts, into one contiguous buffer (a template with its length filled in), so a
// request costs a parse, with no formatting and no file-system call. TCP sends straight from those
// buffers (SendStable: its send queue refers to them, so they are also the retransmission queue;
// docs/network.md, "Sending from the document"): a byte is copied once, into the frame. On an
// e1000 the card cuts and checksums the segments (docs/network.md, "TCP segmentation").
//
// Documents: /empty (0 bytes), /1k, /64k, /10m (1 KiB, 64 KiB, 10 MiB) whose byte i is
// (i * 31 + 7) % 251, so a client can check every byte; / lists them. Anything else: 404.
using System;
using System.Collections.Generic;
using Aegis.LibOS;
using Aegis.Abi;
using Aegis.LibOS.Net;

namespace Aegis.Apps.Net
{
    internal static class WebServer
    {
        private sealed class Document
        {
            public string Path;
            public byte[] KeepOpen, Close;   // headers + body of a GET: "Connection: keep-alive" or "close"
            public int KeepOpenHeader, CloseHeader; // a HEAD sends only the headers
        }

        private sealed class Client
        {
            public TcpConnection Connection;
            public byte[] Request = new byte[8192];
            public int RequestLength;
            public byte[] Sending;      // the response being sent
            public int SendOffset, SendEnd;
            public bool CloseAfter;
        }

        private static readonly List<Document> s_documents = new List<Document>();
        private static byte[] s_notFound, s_badRequest;
        private static long s_answered;
        // The machine's work (TSC minus the idle loop's halted ticks: under -icount, instructions)
        // from the first request to the last answer, for "work W a request".
        private static ulong s_firstWork, s_lastWork;
        private static ulong s_sendPhase, s_receivePhase, s_parsePhase;

        private static unsafe ulong Work() => Time.Timestamp - Info.GlobalPage->IdleTimestampTicks;

        public static byte Pattern(long i) => (byte)((i * 31 + 7) % 251);

        private static byte[] Ascii(string s)
        {
            var b = new byte[s.Length];
            for (int i = 0; i < s.Length; i++) b[i] = (byte)s[i];
            return b;
        }

        /// <summary>The response template filled in: status, headers (length and connection) and body.</summary>
        private static byte[] Response(string type, byte[] body, string connection, out int headerLength)
        {
            byte[] header = Ascii("HTTP/1.1 200 OK\r\nServer: aegis-net\r\nContent-Type: " + type + "\r\nContent-Length: "
                + body.Length.ToString() + "\r\nConnection: " + connection + "\r\n\r\n");
            var response = new byte[header.Length + body.Length];
            Buffer.BlockCopy(header, 0, response, 0, header.Length);
            Buffer.BlockCopy(body, 0, response, header.Length, body.Length);
            headerLength = header.Length;
            return response;
        }

        private static void Add(string path, string type, byte[] body)
        {
            var d = new Document { Path = path };
            d.KeepOpen = Response(type, body, "keep-alive", out d.KeepOpenHeader);
            d.Close = Response(type, body, "close", out d.CloseHeader);
            s_documents.Add(d);
        }

        private static byte[] PatternBody(int length)
        {
            var body = new byte[length];
            for (int i = 0; i < length; i++) body[i] = Pattern(i);
            return body;
        }

        private static void BuildDocuments()
        {
            Add("/empty", "application/octet-stream", new byte[0]);
            Add("/1k", "application/octet-stream", PatternBody(1024));
            Add("/64k", "application/octet-stream", PatternBody(64 * 1024));
            Add("/10m", "application/octet-stream", PatternBody(10 * 1024 * 1024));
            Add("/", "text/html", Ascii("<html><body><h1>Aegis</h1><p>An exokernel in C#. Documents: "
                + "<a href=\"/1k\">1k</a> <a href=\"/64k\">64k</a> <a href=\"/10m\">10m</a></p></body></html>\n"));
            s_notFound = Ascii("HTTP/1.1 404 Not Found\r\nServer: aegis-net\r\nContent-Length: 10\r\n\r\nnot found\n");
            s_badRequest = Ascii("HTTP/1.1 400 Bad Request\r\nServer: aegis-net\r\nContent-Length: 12\r\nConnection: close\r\n\r\nbad request\n");
        }

        public static int Run(ushort port, int requests, string benchName = null)
        {
            BuildDocuments();
            TcpListener listener = Program.Tcp.CreateListener();
            listener.Options.NoDelay = true;
            if (listener.Listen(Ipv4Address.Any, port, 256) != TcpError.None)
            {
                Console.WriteLine("net: FAIL: TCP port " + port.ToString() + " is taken");
                return 1;
            }
            Console.WriteLine("net: http on port " + port.ToString());
            var clients = new List<Client>();
            long accepted = 0;
            while (requests == 0 || s_answered < requests || clients.Count > 0)
            {
                Program.Step(now =>
                {
                    bool any = false;
                    TcpConnection c;
                    while ((c = listener.Accept(out _)) != null)
                    {
                        clients.Add(new Client { Connection = c });
                        accepted++;
                        any = true;
                    }
                    for (int i = clients.Count - 1; i >= 0; i--)
                    {
                        if (Serve(clients[i], now, ref any)) continue;
                        clients[i].Connection.Close(now);
                        clients.RemoveAt(i);
                        any = true;
                    }
                    return any;
                });
            }
            long end = Time.Microseconds + 200_000;
            while (Time.Microseconds < end) Program.Step(null);
            ulong perRequest = s_answered > 1 ? (s_lastWork - s_firstWork) / (ulong)(s_answered - 1) : 0;
            Console.WriteLine("net: http: " + s_answered.ToString() + " requests on " + accepted.ToString() + " connections; retransmissions "
                + Program.Tcp.Counters.Retransmissions.ToString() + "; frames dropped on a full ring " + Program.Link.RingDrops.ToString() + ", by the card " + (Program.Link.TryInfo(out NicInfo nic) ? nic.DeviceDropped.ToString() : "?")
                + ", not sent " + Program.Link.SendFailures.ToString() + "; work " + perRequest.ToString()
                + " TSC ticks a request (instructions under -icount), from the first answer to the last");
            if (Program.Profiling && s_answered > 0)
            {
                ulong n = (ulong)s_answered;
                Console.WriteLine("net: profile a request: receive " + (Program.PhaseReceive / n).ToString() + ", timers " + (Program.PhaseTimers / n).ToString()
                    + ", app " + (Program.PhaseApp / n).ToString() + ", wait " + (Program.PhaseWait / n).ToString() + "; steps " + (Program.Steps * 10 / n).ToString()
                    + " tenths; sends " + (Program.Link.SendWork / n).ToString() + " in " + Program.Link.Sends.ToString() + " frames (" + Program.Link.SegmentedSends.ToString() + " cut by the card, " + Program.Stack.Counters.FramesSent.ToString() + " on the wire); app: tcp send "
                    + (s_sendPhase / n).ToString() + ", tcp receive " + (s_receivePhase / n).ToString() + ", parse " + (s_parsePhase / n).ToString());
            }
            if (benchName != null && s_answered > 1)
            {
                ulong tenths = (s_lastWork - s_firstWork) * 10 / (ulong)(s_answered - 1);
                Console.WriteLine("BENCH " + benchName + " " + (s_answered - 1).ToString() + " " + (tenths / 10).ToString() + "." + (tenths % 10).ToString());
            }
            return 0;
        }

        /// <summary>Moves one client on; false when it is done (closed by the peer, or failed).</summary>
        private static bool Serve(Client client, long now, ref bool any)
        {
            TcpConnection c = client.Connection;
            // Sending first: a response goes out as the window allows.
            if (client.Sending != null)
            {
                ulong t0 = Program.Profiling ? Program.Work() : 0;
                int n = c.SendStable(client.Sending, client.SendOffset, client.SendEnd - client.SendOffset, now);
                if (Program.Profiling) s_sendPhase += Program.Work() - t0;
                if (n > 0) { client.SendOffset += n; any = true; }
                else if (n < 0 && n != -(int)TcpError.WouldBlock) return false;
                if (client.SendOffset < client.SendEnd) return true;
                client.Sending = null;
                if (client.CloseAfter) return false;
            }
            // Then the next request (pipelined ones wait in the buffer).
            while (client.Sending == null)
            {
                int end = RequestEnd(client.Request, client.RequestLength);
                if (end < 0)
                {
                    if (client.RequestLength == client.Request.Length)
                    {
                        Answer(client, s_badRequest, s_badRequest.Length, true);
                        break;
                    }
                    ulong t1 = Program.Profiling ? Program.Work() : 0;
                    int n = c.Receive(new Span<byte>(client.Request, client.RequestLength, client.Request.Length - client.RequestLength), now);
                    if (Program.Profiling) s_receivePhase += Program.Work() - t1;
                    if (n == 0) return false; // the peer closed
                    if (n < 0) return n == -(int)TcpError.WouldBlock;
                    client.RequestLength += n;
                    any = true;
                    continue;
                }
                ulong t2 = Program.Profiling ? Program.Work() : 0;
                Handle(client, end);
                if (Program.Profiling) s_parsePhase += Program.Work() - t2;
                int rest = client.RequestLength - end;
                Buffer.BlockCopy(client.Request, end, client.Request, 0, rest);
                client.RequestLength = rest;
                any = true;
            }
            if (client.Sending != null)
            {
                ulong t3 = Program.Profiling ? Program.Work() : 0;
                int n = c.SendStable(client.Sending, client.SendOffset, client.SendEnd - client.SendOffset, now);
                if (Program.Profiling) s_sendPhase += Program.Work() - t3;
                if (n > 0) client.SendOffset += n;
            }
            return true;
        }

        /// <summary>The index just past "\r\n\r\n", or -1.</summary>
        private static int RequestEnd(byte[] b, int length)
        {
            for (int i = 3; i < length; i++)
                if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') return i + 1;
            return -1;
        }

        private static void Handle(Client client, int end)
        {
            byte[] r = client.Request;
            bool head = Starts(r, 0, "HEAD "), get = Starts(r, 0, "GET ");
            if (!head && !get) { Answer(client, s_badRequest, s_badRequest.Length, true); return; }
            int start = head ? 5 : 4, stop = start;
            while (stop < end && r[stop] != ' ' && r[stop] != '\r') stop++;
            // The request line ends "HTTP/1.x\r\n"; then one header a line, looked at by its first
            // bytes only (a request costs a pass over its line starts, not a search of its bytes).
            int lineEnd = stop;
            while (lineEnd + 1 < end && !(r[lineEnd] == '\r' && r[lineEnd + 1] == '\n')) lineEnd++;
            bool http10 = lineEnd >= 8 && Starts(r, lineEnd - 8, "HTTP/1.0");
            bool close = false, keepAlive = false;
            for (int line = lineEnd + 2; line < end - 2;)
            {
                int next = line;
                while (next + 1 < end && !(r[next] == '\r' && r[next + 1] == '\n')) next++;
                if (next - line > 11 && (r[line] | 0x20) == 'c' && StartsIgnoringCase(r, line, "connection:"))
                {
                    int v = line + 11;
                    while (v < next && r[v] == ' ') v++;
                    if (StartsIgnoringCase(r, v, "close")) close = true;
                    else if (StartsIgnoringCase(r, v, "keep-alive")) keepAlive = true;
                }
                line = next + 2;
            }
            bool closeAfter = close || (http10 && !keepAlive);
            for (int i = 0; i < s_documents.Count; i++)
            {
                Document d = s_documents[i];
                if (d.Path.Length != stop - start || !Starts(r, start, d.Path)) continue;
                byte[] response = closeAfter ? d.Close : d.KeepOpen;
                Answer(client, response, head ? (closeAfter ? d.CloseHeader : d.KeepOpenHeader) : response.Length, closeAfter);
                return;
            }
            Answer(client, s_notFound, s_notFound.Length, closeAfter);
        }

        private static void Answer(Client client, byte[] response, int length, bool closeAfter)
        {
            client.Sending = response;
            client.SendOffset = 0;
            client.SendEnd = length;
            client.CloseAfter = closeAfter;
            s_lastWork = Work();
            if (s_answered == 0) s_firstWork = s_lastWork;
            s_answered++;
        }

        private static bool Starts(byte[] b, int at, string s)
        {
            if (at + s.Length > b.Length) return false;
            for (int i = 0; i < s.Length; i++) if (b[at + i] != s[i]) return false;
            return true;
        }

        private static bool StartsIgnoringCase(byte[] b, int at, string lower)
        {
            if (at + lower.Length > b.Length) return false;
            for (int i = 0; i < lower.Length; i++) if ((b[at + i] | 0x20) != (lower[i] | 0x20)) return false;
            return true;
        }
    }
}
