// The Linux personality's network (docs/libos-unixish.md, "Sockets"): when the first Linux process
// holds the Nic capability it gives a copy to the file server, which then also owns the machine's
// address and TCP/IP (LibOS.Net) and keeps every process's sockets (InetSockets) beside its files.
// A libOS decision, written down: one server environment for files and sockets means one
// descriptor table, one fork and exit protocol (Duplicate, Goodbye) and one place where
// sendfile can move a file's bytes to a socket; the server answers ARP and ping for the address.
//
// The server's loop (VfsIpc.RunServer) calls Step between its waits: frames from the receive ring
// into the stack, the stack's and TCP's timers when due, then a wake message (SharedPipe.WakeTag)
// to every process recorded on a socket that changed. NextDeadline is when the loop must run
// again without a frame (a frame ends the server's Wait by itself: the kernel wakes the ring's owner).
// Without a card the stack has only its loopback (127.0.0.0/8), so programs that talk to
// themselves over 127.0.0.1 work on every machine, as on Linux.
// Configuration: DHCP, waited for at most StartupWaitMicros at start (socket calls meanwhile are
// told Busy, so programs start with the address known); without a lease by then it goes on in the
// background and connect/sendto fail with ENETUNREACH until it comes.
using System.Collections.Generic;
using Aegis.Abi;
using Aegis.LibOS.Net;
using Aegis.LibOS.Net.Aegis;
using Aegis.LibOS.Unixish.Linux.Files;

namespace Aegis.LibOS.Unixish.Linux.Net
{
    public static class NetService
    {
        public const long StartupWaitMicros = 5_000_000;

        private static NicLink s_link;
        private static NetStack s_stack;
        private static Tcp s_tcp;
        private static DhcpClient s_dhcp;
        private static InetSockets s_sockets;
        private static int s_wideFilter = -1;
        private static long s_nextTimer;
        private static bool s_configured;
        private static readonly List<Socket> s_changed = new List<Socket>();
        private static System.Action<ulong> s_wake;

        /// <summary>Called with /etc/resolv.conf's new text when a lease names DNS servers (the
        /// file server writes it into the tree, as a DHCP client of a Linux system does).</summary>
        public static System.Action<string> ResolverConfiguration;

        /// <summary>The sockets (null: no network).</summary>
        public static InetSockets Sockets => s_sockets;

        /// <summary>Whether this environment holds a Nic capability in its well-known slot.</summary>
        public static bool HaveNic()
        {
            SystemCallResult kind = SystemCalls.CapabilityQuery(CapabilitySlots.Nic);
            return !kind.IsError && kind.Value == (ulong)CapabilityKind.Nic;
        }

        /// <summary>The stack and its sockets: with the card (withCard: this environment holds the
        /// Nic capability) it opens the card, starts DHCP and waits up to StartupWaitMicros for a
        /// lease; without one (or when the card cannot be opened: logged) the stack has only its
        /// loopback, 127.0.0.0/8, as Linux's lo.</summary>
        public static InetSockets Start(bool withCard)
        {
            if (withCard)
            {
                s_link = NicLink.Open();
                if (s_link == null) LinuxLog.Line("network: " + NicLink.LastError + "; sockets have only the loopback");
            }
            IFrameLink link = s_link != null ? s_link : new NoCard();
            MacAddress mac = s_link != null ? s_link.Mac : new MacAddress(0x020000000000UL);
            s_stack = new NetStack(mac, link, new NetStackOptions { RandomSeed = Time.Timestamp });
            s_tcp = new Tcp(s_stack, Time.Timestamp, Info.EnvironmentId * 0x9E3779B97F4A7C15UL ^ Time.Timestamp);
            s_stack.Register(s_tcp);
            s_sockets = new InetSockets(s_stack, s_tcp, () => Time.Microseconds);
            s_wake = Wake;
            if (s_link == null) return s_sockets;
            // Before a lease the stack must see the server's answers, sent to an address it does not know yet.
            if (s_link.ClaimIpv4To(Ipv4Address.Any, out s_wideFilter) != Error.None)
            {
                LinuxLog.Line("network: cannot claim IPv4 frames for DHCP (another environment owns them); sockets have only the loopback");
                s_link.Close();
                s_link = null;
                return s_sockets;
            }
            s_dhcp = new DhcpClient(s_stack, "aegis");
            s_stack.AddTimer(s_dhcp);
            long started = Time.Microseconds;
            s_dhcp.Start(started);
            while (!s_configured && Time.Microseconds - started < StartupWaitMicros)
            {
                Step();
                s_link.WaitUntil(NextDeadlineMicros);
            }
            if (!s_configured) LinuxLog.Line("network: no DHCP lease within " + (StartupWaitMicros / 1_000_000).ToString() + " s; still asking");
            return s_sockets;
        }

        /// <summary>The link of a stack without a card: nothing leaves (only the loopback works).</summary>
        private sealed class NoCard : IFrameLink
        {
            public bool TrySend(System.ReadOnlySpan<byte> frame) => false;
            public int SegmentedFrameBytes => 0;
            public bool TrySendSegmented(System.ReadOnlySpan<byte> frame, int segmentSize) => false;
            public System.Span<byte> SegmentedBuffer() => default;
        }

        /// <summary>When Step must run again (Time.Microseconds' clock) if no frame comes first.</summary>
        public static long NextDeadlineMicros => s_nextTimer;

        /// <summary>One round: frames, timers, the lease, then wakes for changed sockets.</summary>
        public static void Step()
        {
            long now = Time.Microseconds;
            int frames = s_link != null ? s_link.Deliver(s_stack, now) : 0;
            if (now >= s_nextTimer || frames > 0)
            {
                s_stack.Poll(now);
                s_tcp.Poll(now);
            }
            if (!s_configured && s_dhcp != null && s_dhcp.IsBound) Configured(now);
            AfterWork();
        }

        /// <summary>After a socket call or a step: timers may have moved, sockets changed.</summary>
        public static void AfterWork()
        {
            long deadline = s_stack.NextDeadlineMicros, tcp = s_tcp.NextDeadlineMicros;
            s_nextTimer = tcp < deadline ? tcp : deadline;
            s_sockets.TakeChanged(s_changed);
            for (int i = 0; i < s_changed.Count; i++) s_changed[i].WakeWatchers(s_wake);
            s_changed.Clear();
        }

        private static void Configured(long now)
        {
            s_configured = true;
            DhcpLease lease = s_dhcp.Lease;
            if (s_link.ClaimArpFor(lease.Address, out _) != Error.None || s_link.ClaimIpv4To(lease.Address, out _) != Error.None)
                LinuxLog.Line("network: the filters for " + lease.Address.ToString() + " were refused (another environment has them)");
            if (s_wideFilter >= 0) s_link.RemoveFilter(s_wideFilter);
            s_wideFilter = -1;
            LinuxLog.Line("network: " + lease.Address.ToString() + " mask " + lease.SubnetMask.ToString() + " router " + lease.Router.ToString()
                + " (DHCP, " + s_link.Mac.ToString() + ")");
            if (lease.DnsCount > 0 && ResolverConfiguration != null)
            {
                string text = "# written by Aegis's file server from the DHCP lease\n";
                for (int i = 0; i < lease.DnsCount; i++) text += "nameserver " + lease.Dns(i).ToString() + "\n";
                ResolverConfiguration(text);
            }
        }

        /// <summary>VfsServer.GiveConnection: the process gets the connection's frames (a filter
        /// given with NicFilterDelegate) and the route to send its segments itself. -1 when it
        /// cannot: no card or lease, the next hop's MAC not known, or the kernel refused (the
        /// process has no ring, the filter would overlap another's).</summary>
        public static int GiveConnection(ulong process, uint local, int localPort, uint remote, int remotePort, out HandoverRoute route)
        {
            route = default;
            if (s_link == null || !s_configured) return -1;
            Ipv4Address address = s_stack.Address, mask = s_stack.SubnetMask, router = s_stack.Gateway;
            var peer = new Ipv4Address(remote);
            Ipv4Address hop = ((peer.Value ^ address.Value) & mask.Value) == 0 ? peer : router;
            if (!s_stack.Arp.TryLookup(hop, out MacAddress mac)) return -1;
            if (s_link.GiveConnection(process, new Ipv4Address(local), localPort, peer, remotePort, out int id, out _) != Error.None) return -1;
            route.Address = address.Value;
            route.Mask = mask.Value;
            route.Router = router.Value;
            route.NextHopMac = mac.Value;
            return id;
        }

        /// <summary>VfsServer.GiveListener: the process gets every TCP frame to address:port (a
        /// filter given with NicFilterDelegate) and the route, whose next hop is the router (a
        /// peer on the link is learnt by the process's stack from its frames). -1 when it cannot:
        /// no card or lease, the router's MAC not known, or the kernel refused.</summary>
        public static int GiveListener(ulong process, uint address, int port, out HandoverRoute route)
        {
            route = default;
            if (s_link == null || !s_configured || address != s_stack.Address.Value) return -1;
            if (!s_stack.Arp.TryLookup(s_stack.Gateway, out MacAddress mac)) return -1;
            if (s_link.GivePort(process, s_stack.Address, port, out int id, out _) != Error.None) return -1;
            route.Address = s_stack.Address.Value;
            route.Mask = s_stack.SubnetMask.Value;
            route.Router = s_stack.Gateway.Value;
            route.NextHopMac = mac.Value;
            return id;
        }

        /// <summary>VfsServer.DeliverWaiting: the ring's frames into the stack (the server answers
        /// calls only while it waits between steps, so this is never inside a step).</summary>
        public static void DeliverWaiting()
        {
            if (s_link != null && s_link.HasFrames) s_link.Deliver(s_stack, Time.Microseconds);
        }

        /// <summary>VfsServer.TakeFilterBack.</summary>
        public static void TakeFilterBack(int id) => s_link?.RemoveFilter(id);

        /// <summary>A process recorded on a changed socket: its Wait ends (LinuxProcesses takes
        /// WakeTag). A full message queue means a wake is pending already; a gone process is skipped.</summary>
        private static void Wake(ulong environment) =>
            SystemCalls.IpcSend(environment, 0, 0, 0, Processes.SharedPipe.WakeTag, IpcSendFlags.SenderContinues);
    }
}
