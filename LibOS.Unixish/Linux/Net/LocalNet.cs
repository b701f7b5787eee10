// A Linux process's own TCP/IP, for the connections it runs itself (docs/libos-unixish.md,
// "Connections run by the process"). The file server keeps the machine's address, ARP, ICMP,
// listeners and every other socket; when a process that accepts a connection may run it (a
// non-blocking accept4), the server gives it the connection's frames (a filter, NicFilterDelegate)
// and hands the connection over in the accept's reply (TcpConnection.HandOver). The process then
// serves the connection's hot calls (read, recv, write, send, writev, sendfile, the TCP options,
// poll and epoll) from its own stack, without a call to the server and without an address-space
// switch. Everything else hands the connection back first (RemoteSocket.Handle): the server's
// semantics stay the one definition. Fork, execve, exit and close hand every connection back.
//
// The stack: a NicLink on a ring of this process (opened at the first handover, a small one), a
// NetStack configured with the server's address (it answers neither ARP nor ping: it never gets
// those frames), the next hop's MAC as a static ARP entry (from the handover), a Tcp and an
// InetSockets of its own. Its frames and timers run in the process's system calls (Step, before a
// local call and before each look of a wait) and its waits end at the stack's next deadline and at
// a frame (the kernel wakes a ring's owner).
using System.Collections.Generic;
using Aegis.Abi;
using Aegis.LibOS.Net;
using Aegis.LibOS.Net.Aegis;
using Aegis.LibOS.Unixish.Linux.Files;

namespace Aegis.LibOS.Unixish.Linux.Net
{
    public static unsafe class LocalNet
    {
        /// <summary>The ring a process opens (a quarter of the server's) and its send buffers (as many as
        /// the server's: with fewer, a 64 KiB answer waited for the card to finish sends).</summary>
        private const uint RingSlots = 64;
        private const int SendBuffers = 64;

        private static NicLink s_link;
        private static NetStack s_stack;
        private static Tcp s_tcp;
        private static InetSockets s_sockets;
        /// <summary>Opening the ring failed once (logged): this process never asks again.</summary>
        private static bool s_failed;
        private static readonly List<RemoteSocket> s_local = new List<RemoteSocket>();
        private static readonly List<Socket> s_changed = new List<Socket>();
        private static long s_nextTimer = long.MaxValue;

        /// <summary>Whether this process may run connections: it holds the card (fork gives every
        /// Linux process a copy) and has its ring (opened now if need be; a failure is final).
        /// The ring is opened here, at the first such accept: the server can give a filter only to
        /// an environment with a ring.</summary>
        public static bool CanTake
        {
            get
            {
                if (s_link != null) return true;
                if (s_failed) return false;
                if (!NetService.HaveNic()) { s_failed = true; return false; } // asked once (fork copies the capability)
                return Open();
            }
        }

        /// <summary>Connections running here now.</summary>
        public static int Count => s_local.Count;

        /// <summary>Sets the hooks of the client and the proxies (the process layer's start).</summary>
        public static void Install()
        {
            VfsClient.TakeHere = &Take;
            RemoteSocket.HandBack = &HandBack;
            RemoteSocket.CloseLocal = &Close;
            LocalSockets.Step = &Step;
            LocalSockets.Done = &AfterWork;
        }

        /// <summary>A forked child starts without the parent's stack (its connections went back before the fork).</summary>
        public static void ResetForChild()
        {
            s_link = null;
            s_stack = null;
            s_tcp = null;
            s_sockets = null;
            s_local.Clear();
            s_nextTimer = long.MaxValue;
            LocalSockets.ForgetHistory();
        }

        private static bool Open()
        {
            s_link = NicLink.Open(CapabilitySlots.Nic, RingSlots, SendBuffers);
            if (s_link == null)
            {
                s_failed = true;
                LinuxLog.Line("network: this process runs no connection of its own (" + NicLink.LastError + ")");
                return false;
            }
            // The machine's address is the server's to announce and defend (ARP): this stack only sends.
            s_stack = new NetStack(s_link.Mac, s_link, new NetStackOptions { RandomSeed = Time.Timestamp, ArpAnnouncements = 0 });
            s_stack.AnswersArpAndPing = false;
            s_stack.SendsIcmpErrors = false;
            s_tcp = new Tcp(s_stack, Time.Timestamp, Info.EnvironmentId * 0x9E3779B97F4A7C15UL ^ Time.Timestamp);
            s_stack.Register(s_tcp);
            s_sockets = new InetSockets(s_stack, s_tcp, () => Time.Microseconds);
            return true;
        }

        /// <summary>VfsClient.TakeHere: the connection into this process's stack, or null (the
        /// client then gives the record back to the server).</summary>
        private static Socket Take(byte* record, int length, byte* info, byte* peer)
        {
            var address = new Ipv4Address(*(uint*)info);
            var mask = new Ipv4Address(*(uint*)(info + 4));
            var router = new Ipv4Address(*(uint*)(info + 8));
            var hopMac = new MacAddress(*(ulong*)(info + 16));
            if (Socket.ReadInet(peer, LinuxSocket.AddressBytes, out uint peerAddress, out _) < 0) return null;
            if (s_link == null) return null; // (CanTake opened it before the accept)
            if (s_stack.Address.Value != address.Value || s_stack.SubnetMask.Value != mask.Value || s_stack.Gateway.Value != router.Value)
                s_stack.Configure(address, mask, router, Time.Microseconds); // the first connection, or a new lease
            // The next hop's MAC came with the connection: the stack never asks (it gets no ARP).
            var remote = new Ipv4Address(peerAddress);
            bool onLink = ((remote.Value ^ address.Value) & mask.Value) == 0;
            s_stack.Arp.AddStatic(onLink ? remote : router, hopMac);
            long now = Time.Microseconds;
            TcpConnection connection = s_tcp.TakeOver(new System.ReadOnlySpan<byte>(record, length), now, out TcpError error);
            if (connection == null)
            {
                LinuxLog.Line("network: a connection handed over was refused here (" + error.ToString() + "); the server keeps it");
                return null;
            }
            return s_sockets.Adopt(connection);
        }

        /// <summary>Records a proxy of a connection taken here (FileCalls, after the accept).</summary>
        public static void Taken(RemoteSocket socket)
        {
            s_local.Add(socket);
            AfterWork();
        }

        /// <summary>The connection's record to the server (VfsProtocol.Adopt; close: AdoptAndClose):
        /// the server's answer (its descriptor, or 0 when it closed it), or -errno: -ENOTCONN when
        /// the connection cannot move (closed or reset here already; it stays here), else the
        /// server refused (logged, counted; the connection is lost).</summary>
        private static long Give(StreamSocket stream, int flags, bool close)
        {
            Step(); // the connection's frames in this ring go with it (after the move this stack would drop them)
            int size = stream.HandOverSize;
            if (size <= 0)
            {
                // Ended here (reset, or closed): nothing moves, but the filter must go back, or a
                // new connection from the same port (QEMU's user network reuses them) would come here.
                if (stream.Tuple(out uint local, out int localPort, out uint remote, out int remotePort))
                    FileCalls.Remote.ForgetGiven(local, localPort, remote, remotePort);
                return -Errno.ENOTCONN;
            }
            byte[] record = size <= s_record.Length ? s_record : new byte[size];
            long result;
            fixed (byte* r = record)
            {
                result = stream.HandOver(new System.Span<byte>(r, size));
                if (result > 0) result = FileCalls.Remote.AdoptRecord(r, (int)result, flags, close);
            }
            if (result < 0)
            {
                if (stream.Tuple(out uint local, out int localPort, out uint remote, out int remotePort))
                    FileCalls.Remote.ForgetGiven(local, localPort, remote, remotePort); // (as above)
                LinuxLog.Line("network: a connection could not go back to the server (" + result.ToString() + "); it is lost");
            }
            return result;
        }

        /// <summary>The record buffer for the usual small connection (one system call at a time).</summary>
        private static readonly byte[] s_record = new byte[VfsProtocol.PayloadBytes];

        /// <summary>RemoteSocket.HandBack: the connection goes to the server, whose descriptor the
        /// proxy then names. One that cannot go gets a fresh, unconnected server socket (ENOTCONN
        /// from then on; a reset the process had not read yet is not carried).</summary>
        private static void HandBack(RemoteSocket socket)
        {
            var stream = (StreamSocket)socket.Local;
            s_local.Remove(socket);
            VfsClient client = FileCalls.Remote;
            long fd = Give(stream, LinuxSocket.SOCK_NONBLOCK, close: false);
            if (fd >= 0) socket.BecameRemote(client.AdoptedHandle((int)fd));
            else
            {
                stream.Close(); // (a no-op when the record went)
                fd = client.Socket(LinuxSocket.AF_INET, LinuxSocket.SOCK_STREAM | LinuxSocket.SOCK_NONBLOCK, 0, out RemoteSocket fresh);
                socket.BecameRemote(fd >= 0 ? fresh.Handle : client.AdoptedHandle(-1)); // no server socket either: EBADF from the server
            }
            AfterWork();
        }

        /// <summary>RemoteSocket.CloseLocal: the connection goes back to be closed there (its FIN
        /// and TIME_WAIT are the server's), in one call; one that cannot move is closed here.</summary>
        private static void Close(RemoteSocket socket)
        {
            var stream = (StreamSocket)socket.Local;
            s_local.Remove(socket);
            LocalSockets.Finished(socket);
            socket.Local = null;
            if (Give(stream, 0, close: true) < 0) stream.Close(); // (a no-op when the record went)
            AfterWork();
        }

        /// <summary>Before fork, execve and exit: every connection goes back to the server.</summary>
        public static void HandBackAll()
        {
            while (s_local.Count > 0)
            {
                RemoteSocket socket = s_local[s_local.Count - 1];
                _ = socket.Handle; // hands it back (and takes it off the list)
            }
        }

        /// <summary>Frames and due timers through the stack (before a local call, before a look).</summary>
        public static void Step()
        {
            if (s_link == null) return;
            long now = Time.Microseconds;
            int frames = s_link.Deliver(s_stack, now);
            if (frames > 0 || now >= s_nextTimer)
            {
                s_stack.Poll(now);
                s_tcp.Poll(now);
            }
            AfterWork();
        }

        /// <summary>After a local call: the stack's next deadline (nobody is woken: the process is the only reader).</summary>
        public static void AfterWork()
        {
            if (s_stack == null) return;
            long deadline = s_stack.NextDeadlineMicros, tcp = s_tcp.NextDeadlineMicros;
            s_nextTimer = tcp < deadline ? tcp : deadline;
            s_sockets.TakeChanged(s_changed);
            s_changed.Clear();
        }

        /// <summary>A wait's TSC deadline, no later than the stack's next timer (ulong.MaxValue: none);
        /// 0 when a frame is waiting already (look again at once).</summary>
        public static ulong WaitDeadline(ulong deadline)
        {
            if (s_link == null) return deadline;
            if (s_link.HasFrames) return 0;
            if (s_nextTimer == long.MaxValue) return deadline;
            long now = Time.Microseconds;
            ulong timer = Time.DeadlineAfter(s_nextTimer > now ? s_nextTimer - now : 0);
            return timer < deadline ? timer : deadline;
        }
    }
}
