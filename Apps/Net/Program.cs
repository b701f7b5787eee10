// net: LibOS.Net on Aegis (issue #12; docs/network.md "The app net"). One environment owns the
// machine's address: it claims ARP and IPv4 for it with packet filters, runs DHCP (or takes
// 10.0.2.15/24 via 10.0.2.2 with "static"), and then does one job. Words are separated by commas
// on the kernel command line (init=net:MODE,ARG,...):
//   dhcp                      prints the lease
//   ping,ADDRESS,COUNT        ICMP echo; prints each reply's time
//   resolve,NAME[,SERVER[:PORT]]  an A lookup (default server: the lease's)
//   udpecho,PORT              echoes datagrams until one says "quit"
//   tcpecho,PORT[,bench=NAME] echoes each connection's bytes until a connection sends "quit\n";
//                             with bench=NAME it ends with a BENCH line: the machine's work an
//                             echo, over the echoes after the first 200 (./aegis bench)
//   http,PORT[,REQUESTS][,bench=NAME]  the web server (WebServer.cs) until REQUESTS have been
//                             answered (0: for ever); with bench=NAME it ends with a BENCH line:
//                             the machine's work a request (./aegis bench)
//   checksum                  no network: the checksum of fixed spans, for the host to check
//                             (ChecksumCheck.cs)
// Add ",static" to skip DHCP, ",lossy" to drop every 20th received and 30th sent TCP segment
// (the test switch).
using System;
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Net;
using Aegis.LibOS.Net.Aegis;

namespace Aegis.Apps.Net
{
    internal static class Program
    {
        internal static NicLink Link;
        internal static NetStack Stack;
        internal static Tcp Tcp;
        private static int s_wideFilter = -1;

        private static int Main()
        {
            string[] words = Info.Argument.Replace(',', ' ').Split(' ');
            bool useStatic = Has(words, "static"), lossy = Has(words, "lossy");
            Profiling = Has(words, "profile");
            if (words[0] == "checksum") return ChecksumCheck.Run();
            Link = NicLink.Open();
            if (Link == null)
            {
                Console.WriteLine("net: FAIL: no network: " + NicLink.LastError);
                return 1;
            }
            Stack = new NetStack(Link.Mac, Link, new NetStackOptions { RandomSeed = Time.Timestamp });
            Tcp = new Tcp(Stack, Time.Timestamp, (ulong)Info.EnvironmentId * 0x9E3779B97F4A7C15UL ^ Time.Timestamp);
            Stack.Register(Tcp);
            if (lossy)
            {
                Tcp.DropEveryNthReceived = 20;
                Tcp.DropEveryNthSent = 30;
            }
            if (!(useStatic ? ConfigureStatic() : ConfigureByDhcp())) return 1;
            switch (words[0])
            {
                case "dhcp": return 0;
                case "ping": return Ping(words);
                case "resolve": return Resolve(words);
                case "udpecho": return UdpEcho(ushort.Parse(words[1]));
                case "tcpecho": return TcpEcho(ushort.Parse(words[1]), Value(words, "bench="));
                case "http": return WebServer.Run(ushort.Parse(words[1]), words.Length > 2 && IsNumber(words[2]) ? int.Parse(words[2]) : 0, Value(words, "bench="));
                default:
                    Console.WriteLine("net: unknown mode '" + words[0] + "' (dhcp, ping, resolve, udpecho, tcpecho, http)");
                    return 2;
            }
        }

        private static bool Has(string[] words, string word)
        {
            foreach (string w in words) if (w == word) return true;
            return false;
        }

        /// <summary>The rest of the word that starts with 'prefix' (null when none does).</summary>
        private static string Value(string[] words, string prefix)
        {
            foreach (string w in words) if (w.StartsWith(prefix)) return w.Substring(prefix.Length);
            return null;
        }

        private static bool IsNumber(string s)
        {
            if (s.Length == 0) return false;
            for (int i = 0; i < s.Length; i++) if (s[i] < '0' || s[i] > '9') return false; // (foreach over a string does not compile against our runtime)
            return true;
        }

        /// <summary>One round of the libOS: frames into the stack, its timers and TCP's, then
        /// 'work' (the app's), then sleep until a frame or the next timer if nothing happened.</summary>
        internal static void Step(Func<long, bool> work)
        {
            ulong w0 = Profiling ? Work() : 0;
            long now = Time.Microseconds;
            int frames = Link.Deliver(Stack, now);
            ulong w1 = Profiling ? Work() : 0;
            // Timers only when one is due: the deadline is taken after each step's work, and what
            // a later step arms (a send's retransmission timer) lies after the step that armed it.
            if (now >= s_nextTimer || frames > 0)
            {
                Stack.Poll(now);
                Tcp.Poll(now);
            }
            ulong w2 = Profiling ? Work() : 0;
            bool busy = work != null && work(now);
            ulong w3 = Profiling ? Work() : 0;
            long deadline = Stack.NextDeadlineMicros, tcp = Tcp.NextDeadlineMicros;
            if (tcp < deadline) deadline = tcp;
            s_nextTimer = deadline;
            if (frames == 0 && !busy)
            {
                long latest = now + 100_000;
                Link.WaitUntil(deadline < latest ? deadline : latest);
            }
            if (Profiling)
            {
                ulong w4 = Work();
                PhaseReceive += w1 - w0; PhaseTimers += w2 - w1; PhaseApp += w3 - w2; PhaseWait += w4 - w3;
                Steps++;
            }
        }

        // ",profile": where the machine's work goes, by phase of Step (Work: TSC less halted ticks,
        // so the kernel's work for this environment — interrupts, wakeups — lands in the phase it
        // interrupted or in Wait).
        internal static bool Profiling;
        private static long s_nextTimer;
        internal static ulong PhaseReceive, PhaseTimers, PhaseApp, PhaseWait, Steps;
        internal static unsafe ulong Work() => Time.Timestamp - Info.GlobalPage->IdleTimestampTicks;

        // ---- configuration

        private static bool ClaimAddress(Ipv4Address address)
        {
            if (Link.ClaimArpFor(address, out _) != Error.None || Link.ClaimIpv4To(address, out _) != Error.None)
            {
                Console.WriteLine("net: FAIL: the filters for " + address.ToString() + " were refused");
                return false;
            }
            return true;
        }

        private static bool ConfigureStatic()
        {
            var address = new Ipv4Address(10, 0, 2, 15);
            if (!ClaimAddress(address)) return false;
            Stack.Configure(address, new Ipv4Address(255, 255, 255, 0), new Ipv4Address(10, 0, 2, 2), Time.Microseconds);
            var servers = new Ipv4Address[1];
            servers[0] = new Ipv4Address(10, 0, 2, 3);
            Stack.SetDnsServers(servers);
            Console.WriteLine("net: static 10.0.2.15/24 via 10.0.2.2, MAC " + Link.Mac.ToString());
            return true;
        }

        private static bool ConfigureByDhcp()
        {
            // Before a lease the stack must see the server's answers, sent to an address it does
            // not know yet: every IPv4 frame, until the lease names ours.
            if (Link.ClaimIpv4To(Ipv4Address.Any, out s_wideFilter) != Error.None)
            {
                Console.WriteLine("net: FAIL: cannot claim IPv4 frames for DHCP");
                return false;
            }
            var dhcp = new DhcpClient(Stack, "aegis");
            Stack.AddTimer(dhcp);
            long started = Time.Microseconds;
            dhcp.Start(started);
            while (!dhcp.IsBound && Time.Microseconds - started < 30_000_000) Step(null);
            Link.RemoveFilter(s_wideFilter);
            if (!dhcp.IsBound)
            {
                Console.WriteLine("net: FAIL: no DHCP lease within 30 s");
                return false;
            }
            DhcpLease lease = dhcp.Lease;
            if (!ClaimAddress(lease.Address)) return false;
            Console.WriteLine("net: DHCP lease " + lease.Address.ToString() + " mask " + lease.SubnetMask.ToString() + " router "
                + lease.Router.ToString() + " dns " + (lease.DnsCount > 0 ? lease.Dns0.ToString() : "none") + " server "
                + lease.Server.ToString() + " for " + lease.LeaseSeconds.ToString() + " s, MAC " + Link.Mac.ToString()
                + " (" + ((Time.Microseconds - started) / 1000).ToString() + " ms)");
            return true;
        }

        // ---- ping

        private static int Ping(string[] words)
        {
            if (!Ipv4Address.TryParse(words[1], out Ipv4Address target))
            {
                Console.WriteLine("net: ping: not an address: " + words[1]);
                return 2;
            }
            int count = int.Parse(words[2]), replies = 0;
            Pinger pinger = Stack.Icmp.OpenPinger();
            for (int i = 0; i < count; i++)
            {
                long sent = Time.Microseconds;
                // The first request may wait for ARP: the stack queues it and sends it once resolved.
                int sequence = pinger.Send(target, 56, sent);
                PingReply reply = default;
                bool answered = false;
                while (!answered && Time.Microseconds - sent < 2_000_000)
                {
                    Step(null);
                    while (pinger.TryGetReply(out PingReply r)) if (r.Sequence == sequence) { reply = r; answered = true; }
                }
                if (answered)
                {
                    replies++;
                    Console.WriteLine("net: ping " + target.ToString() + " seq " + i.ToString() + " time " + reply.RoundTripMicros.ToString() + " us");
                }
                else Console.WriteLine("net: ping " + target.ToString() + " seq " + i.ToString() + " timed out");
            }
            Console.WriteLine("net: ping " + target.ToString() + ": " + replies.ToString() + " of " + count.ToString() + " replies");
            return replies == count ? 0 : 1;
        }

        // ---- DNS

        private static int Resolve(string[] words)
        {
            var resolver = new DnsResolver(Stack);
            Stack.AddTimer(resolver);
            if (words.Length > 2 && words[2] != "static" && words[2] != "lossy")
            {
                string server = words[2];
                int colon = server.IndexOf(':');
                ushort port = 53;
                if (colon >= 0)
                {
                    port = ushort.Parse(server.Substring(colon + 1));
                    server = server.Substring(0, colon);
                }
                Ipv4Address.TryParse(server, out Ipv4Address address);
                var servers = new Ipv4Address[1];
                servers[0] = address;
                resolver.SetServers(servers);
                resolver.ServerPort = port;
            }
            DnsQuery query = resolver.Resolve(words[1], Time.Microseconds);
            while (!query.IsDone) Step(null);
            if (query.Status != DnsStatus.Resolved)
            {
                Console.WriteLine("net: resolve " + words[1] + ": " + ((int)query.Status).ToString());
                return 1;
            }
            string addresses = "";
            for (int i = 0; i < query.AddressCount; i++) addresses += (i > 0 ? " " : "") + query.Addresses[i].ToString();
            Console.WriteLine("net: resolve " + words[1] + " is " + addresses + (query.CanonicalName != null ? " (canonical " + query.CanonicalName + ")" : ""));
            return 0;
        }

        // ---- echo servers

        private static int UdpEcho(ushort port)
        {
            UdpSocket socket = Stack.Udp.Open(256 * 1024);
            if (socket.Bind(port) != UdpError.None)
            {
                Console.WriteLine("net: FAIL: UDP port " + port.ToString() + " is taken");
                return 1;
            }
            Console.WriteLine("net: UDP echo on port " + port.ToString());
            byte[] buffer = new byte[65536];
            int echoed = 0;
            bool quit = false;
            while (!quit)
            {
                Step(now =>
                {
                    bool any = false;
                    int length;
                    while ((length = socket.TryReceive(buffer, out Ipv4Address from, out ushort fromPort)) >= 0)
                    {
                        any = true;
                        socket.SendTo(from, fromPort, new ReadOnlySpan<byte>(buffer, 0, length));
                        echoed++;
                        if (length == 4 && buffer[0] == 'q' && buffer[1] == 'u' && buffer[2] == 'i' && buffer[3] == 't') quit = true;
                    }
                    return any;
                });
            }
            Console.WriteLine("net: UDP echo: " + echoed.ToString() + " datagrams");
            return 0;
        }

        /// <summary>How many echoes a bench's warm-up takes before its work is counted.</summary>
        private const int EchoWarmUp = 200;

        private static int TcpEcho(ushort port, string bench)
        {
            long echoes = 0;
            ulong firstWork = 0, lastWork = 0;
            TcpListener listener = Tcp.CreateListener();
            if (listener.Listen(Ipv4Address.Any, port, 128) != TcpError.None)
            {
                Console.WriteLine("net: FAIL: TCP port " + port.ToString() + " is taken");
                return 1;
            }
            Console.WriteLine("net: TCP echo on port " + port.ToString());
            var connections = new System.Collections.Generic.List<TcpConnection>();
            byte[] buffer = new byte[16384];
            long bytes = 0;
            int accepted = 0;
            bool quit = false;
            while (!quit || connections.Count > 0)
            {
                Step(now =>
                {
                    bool any = false;
                    TcpConnection c;
                    while ((c = listener.Accept(out _)) != null) { connections.Add(c); accepted++; any = true; }
                    for (int i = connections.Count - 1; i >= 0; i--)
                    {
                        c = connections[i];
                        int n = c.Receive(buffer, now, peek: true);
                        if (n > 0)
                        {
                            int sent = c.Send(new ReadOnlySpan<byte>(buffer, 0, n), now);
                            if (sent > 0)
                            {
                                c.Receive(new Span<byte>(buffer, 0, sent), now); // take what went out
                                bytes += sent;
                                echoes++;
                                if (echoes == EchoWarmUp) firstWork = Work();
                                lastWork = Work();
                                any = true;
                                if (sent >= 5 && buffer[sent - 5] == 'q' && buffer[sent - 4] == 'u' && buffer[sent - 3] == 'i' && buffer[sent - 2] == 't' && buffer[sent - 1] == '\n')
                                    quit = true;
                            }
                        }
                        else if (n == 0 || (n < 0 && n != -(int)TcpError.WouldBlock))
                        {
                            c.Close(now); // the peer closed (or the connection failed)
                            connections.RemoveAt(i);
                            any = true;
                        }
                    }
                    return any;
                });
            }
            // Let the last FINs and ACKs go out.
            long end = Time.Microseconds + 200_000;
            while (Time.Microseconds < end) Step(null);
            Console.WriteLine("net: TCP echo: " + accepted.ToString() + " connections, " + bytes.ToString() + " bytes; retransmissions "
                + Tcp.Counters.Retransmissions.ToString() + ", dropped by the test switch " + Tcp.Counters.DroppedByTestReceive.ToString() + " in, " + Tcp.Counters.DroppedByTestSend.ToString() + " out; deliveries the kernel's idle watch made "
                + (Link.TryInfo(out NicInfo nic) ? nic.Watched.ToString() : "?"));
            if (bench != null)
            {
                // From the end of the warm-up's last echo to the end of the last one (the client's "quit\n").
                long counted = echoes - EchoWarmUp;
                if (counted <= 0 || firstWork == 0)
                {
                    Console.WriteLine("net: FAIL: tcpecho bench: " + echoes.ToString() + " echoes, not enough past the warm-up");
                    return 1;
                }
                ulong each = (lastWork - firstWork) / (ulong)counted, tenths = (lastWork - firstWork) * 10 / (ulong)counted % 10;
                Console.WriteLine("BENCH " + bench + " " + counted.ToString() + " " + each.ToString() + "." + tenths.ToString());
            }
            return 0;
        }
    }
}
