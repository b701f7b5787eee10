// A Linux process's own TCP/IP, for the connections it runs itself (docs/libos-unixish.md,
// "Connections run by the process"). The file server keeps the machine's address, ARP, ICMP,
// listeners and every other socket; when a process that accepts a connection may run it (a
// non-blocking accept4), the server gives it the connection's frames (a filter, NicFilterDelegate)
// and hands the connection over in the accept's reply (TcpConnection.HandOver). The process then
// serves the connection's hot calls (read, recv, write, send, writev, sendfile, the TCP options,
// poll and epoll) from its own stack, without a call to the server and without an address-space
// switch. Everything else hands the connection back first (RemoteSocket.Handle): the server's
// semantics stay the one definition. Fork, execve, exit and close hand every connection back.
// A non-blocking TCP listener may also be lent to the process (VfsProtocol.Lend; docs/libos-
// unixish.md, "The listener in the process"): a twin listener in this stack answers the port's
// handshakes, and the connections it makes are accepted and closed here without a call; the loan
// goes back (GiveBack) before anything the server must see.
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
            RemoteSocket.ListenerClosing = &ListenerClosed;
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
            // The parent gave its loans back before the fork; their twins are its own.
            for (int i = 0; i < s_listeners.Count; i++)
            {
                s_listeners[i].LocalListener = null;
                s_listeners[i].Lent = false;
            }
            s_listeners.Clear();
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
            s_tcp.MovedSegment = ForwardLate;
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

        // ---- the listener in the process (docs/libos-unixish.md, "The listener in the process")

        /// <summary>Listeners with a twin in this stack: lent, or lent back and not yet drained.</summary>
        private static readonly List<RemoteSocket> s_listeners = new List<RemoteSocket>();
        /// <summary>A refused Lend is asked again after this many accepts on that listener.</summary>
        private const int LendRetry = 16;
        /// <summary>The twin's backlog (Linux's default SOMAXCONN and nginx's listen backlog).</summary>
        private const int TwinBacklog = 511;

        /// <summary>After a non-blocking accept4 on a TCP listener (FileCalls): asks the server to lend
        /// it (VfsProtocol.Lend), unless it is lent already or was refused fewer than LendRetry accepts
        /// ago. Granted, the port's frames come to this stack, whose twin of the listener answers the
        /// handshakes: accept4, the connection's calls and its close then need no call to the server.</summary>
        public static void MaybeLend(RemoteSocket listener)
        {
            if (listener.LocalListener != null || listener.SocketType != LinuxSocket.SOCK_STREAM) return;
            if (listener.LendWait > 0) { listener.LendWait--; return; }
            if (!CanTake) return;
            byte* info = stackalloc byte[VfsProtocol.HandoverInfoBytes];
            long port = listener.Handle.Client.Lend(listener, info, out int undonePort);
            if (port <= 0)
            {
                listener.LendWait = LendRetry;
                if (undonePort > 0)
                {
                    // The port's frames came here for a moment: each is the server's (a SYN, the
                    // ACK of a handshake the server made), given to it, never reset here.
                    s_tcp.RememberMovedPort(s_stack.Address, undonePort, Time.Microseconds);
                    Step();
                }
                return;
            }
            var address = new Ipv4Address(*(uint*)info);
            var mask = new Ipv4Address(*(uint*)(info + 4));
            var router = new Ipv4Address(*(uint*)(info + 8));
            if (s_stack.Address.Value != address.Value || s_stack.SubnetMask.Value != mask.Value || s_stack.Gateway.Value != router.Value)
                s_stack.Configure(address, mask, router, Time.Microseconds);
            s_stack.Arp.AddStatic(router, new MacAddress(*(ulong*)(info + 16)));
            s_stack.LearnsFromFrames = true; // a peer on the link: its MAC from its SYN (this stack gets no ARP)
            Socket twin = null;
            long error = s_sockets.Create(LinuxSocket.AF_INET, LinuxSocket.SOCK_STREAM, 0, out twin);
            byte* name = stackalloc byte[LinuxSocket.InetAddressLength];
            int nameLength = Socket.WriteInet(name, address.Value, (int)port);
            int one = 1;
            // The port may have connections here already (the accept that asked was handed over).
            if (error >= 0) error = twin.SetOption(LinuxSocket.SOL_SOCKET, LinuxSocket.SO_REUSEADDR, (byte*)&one, 4);
            if (error >= 0) error = twin.Bind(name, nameLength, SocketCaller.Server);
            if (error >= 0) error = twin.Listen(TwinBacklog, SocketCaller.Server);
            if (error < 0)
            {
                twin?.Close();
                listener.Handle.Client.LendBack(listener, null, 0, null);
                listener.LendWait = int.MaxValue;
                LinuxLog.Line("network: a listener lent to this process could not be made here (" + error.ToString() + "); given back");
                return;
            }
            s_tcp.ForgetMovedPort(address, (int)port); // (given back lately: its frames are this stack's again)
            listener.LocalListener = twin;
            listener.Lent = true;
            s_listeners.Add(listener);
            // Connections on the port handed over before (the accept that asked): the server took
            // their own filters back (the port's brings their frames); they are the twin's now.
            for (int i = 0; i < s_local.Count; i++)
                if (s_local[i].BornOf == null && s_local[i].Local is StreamSocket stream && stream.Connection != null
                    && stream.Connection.LocalPort == (int)port && stream.Connection.LocalAddress.Value == address.Value)
                    s_local[i].BornOf = listener;
            AfterWork();
        }

        /// <summary>accept4 on a listener with a twin here: a connection the twin made (its proxy in
        /// 'accepted', the peer's address), or -EAGAIN. A twin lent back is closed once drained.</summary>
        public static long AcceptLocal(RemoteSocket listener, byte* peer, out int length, out RemoteSocket accepted)
        {
            accepted = null;
            Step();
            long result = listener.LocalListener.Accept(out Socket made, peer, out length);
            if (result < 0)
            {
                if (!listener.Lent) Retire(listener); // lent back and empty: its work is done
                return result;
            }
            accepted = new RemoteSocket(listener.Mount, made);
            accepted.BornOf = listener.Lent ? listener : null; // lent back: LendBack gave it a filter, as a handed-over one's
            accepted.CorkAccepted = true;
            return 0;
        }

        /// <summary>OpenFile's close of a listener's description: a loan goes back, the twin closes
        /// (its queue is reset, as the listener's close would).</summary>
        private static void ListenerClosed(RemoteSocket listener)
        {
            if (listener.Lent) GiveBack(listener, keepQueued: false);
            Retire(listener);
        }

        private static void Retire(RemoteSocket listener)
        {
            if (listener.LocalListener == null) return;
            listener.LocalListener.Close();
            listener.LocalListener = null;
            s_listeners.Remove(listener);
            AfterWork();
        }

        private static readonly List<TcpConnection> s_onPort = new List<TcpConnection>();
        private static readonly List<TcpConnection> s_kept = new List<TcpConnection>();

        /// <summary>The loan goes back (VfsProtocol.LendBack): the connections the twin made keep
        /// running here, each with a filter of its own, as handed-over ones — the proxies, the queue
        /// (keepQueued: a fork's parent accepts them later) and those closed here and still
        /// finishing; those then go to the server to finish there (AdoptAndClose). A connection
        /// the server gave no filter goes to the server at once. Handshakes in progress go to the
        /// listener at the server (RequeueHandshakes), where the peer's final ACK ends them;
        /// TIME_WAITs stay here, idle.</summary>
        public static void GiveBack(RemoteSocket listener, bool keepQueued)
        {
            if (!listener.Lent) return;
            Step();
            if (!keepQueued) Requeue(listener);
            RequeueHandshakes(listener);
            if (!(listener.LocalListener is StreamSocket twin) || !twin.Listening(out _, out int port)) port = -1;
            s_onPort.Clear();
            s_kept.Clear();
            if (port > 0) s_tcp.ConnectionsOnPort(port, s_onPort);
            int* tuples = stackalloc int[4 * VfsProtocol.MaximumKept];
            int* given = stackalloc int[VfsProtocol.MaximumKept];
            int n = 0;
            for (int i = 0; i < s_onPort.Count && n < VfsProtocol.MaximumKept; i++)
            {
                TcpConnection c = s_onPort[i];
                bool queued = Tcp.IsQueued(c);
                if (c.State == TcpState.TimeWait || c.State == TcpState.SynReceived || c.State < TcpState.Established) continue;
                if (queued ? !keepQueued : !IsBornProxy(c, listener) && !IsClosedHere(c)) continue;
                tuples[4 * n] = (int)c.LocalAddress.Value;
                tuples[4 * n + 1] = c.LocalPort;
                tuples[4 * n + 2] = (int)c.RemoteAddress.Value;
                tuples[4 * n + 3] = c.RemotePort;
                given[n] = 0;
                s_kept.Add(c);
                n++;
            }
            long result = listener.Handle.Client.LendBack(listener, tuples, n, given);
            if (result < 0)
            {
                LinuxLog.Line("network: a listener's loan could not go back (" + result.ToString() + ")");
                for (int i = 0; i < n; i++) given[i] = 0;
            }
            listener.Lent = false;
            // What reached this ring before the server took the port's filter back (a SYN, the ACK
            // of a handshake given back) is the server's: given to it (LateSegment), never answered
            // by the twin (still here while its queue drains) nor reset once the twin is gone.
            if (port > 0) s_tcp.RememberMovedPort(s_stack.Address, port, Time.Microseconds);
            // The proxies born of this listener are handed-over connections from now on.
            for (int i = s_local.Count - 1; i >= 0; i--)
            {
                RemoteSocket proxy = s_local[i];
                if (proxy.BornOf != listener) continue;
                proxy.BornOf = null;
                int at = s_kept.IndexOf(((StreamSocket)proxy.Local).Connection);
                if (at < 0 || given[at] == 0) _ = proxy.Handle; // no filter of its own: to the server now
            }
            // Those closed here finish at the server (their FIN, their TIME_WAIT).
            for (int i = 0; i < s_kept.Count; i++)
            {
                TcpConnection c = s_kept[i];
                if (Tcp.IsQueued(c) || !IsClosedHere(c) || !c.CanHandOver) continue;
                byte[] record = c.HandoverBytes <= s_record.Length ? s_record : new byte[c.HandoverBytes];
                long done;
                fixed (byte* r = record)
                {
                    int written = c.HandOver(record, Time.Microseconds);
                    done = written > 0 ? listener.Handle.Client.AdoptRecord(r, written, 0, close: true) : -Errno.EINVAL;
                }
                if (done < 0) LinuxLog.Line("network: a closing connection could not go to the server (" + done.ToString() + ")");
            }
            s_onPort.Clear();
            s_kept.Clear();
            AfterWork();
            Step(); // the port's frames already in this ring go to the server now, not after this process's next wait (or never: an exit)
        }

        /// <summary>The twin's handshakes in progress (SYN_RECEIVED: its SYN-ACK sent, the peer's ACK
        /// not here yet) when the loan goes back: each goes to the listener at the server
        /// (VfsProtocol.Requeue with a handshake's record), before the port's frames go there, so
        /// the peer's ACK finds it and it is queued there. Until issue #12's session 23 they were
        /// dropped and the server reset the ACK. One that cannot go (the server's SYN backlog
        /// full, nobody else listening) is reset, as a SYN the listener could not take.</summary>
        private static void RequeueHandshakes(RemoteSocket listener)
        {
            if (!(listener.LocalListener is StreamSocket twin) || !twin.Listening(out _, out int port)) return;
            s_onPort.Clear();
            s_tcp.ConnectionsOnPort(port, s_onPort);
            for (int i = 0; i < s_onPort.Count; i++)
            {
                TcpConnection c = s_onPort[i];
                if (!c.CanHandOverHalfOpen || !twin.IsListenerOf(c)) continue;
                long result;
                fixed (byte* r = s_record)
                {
                    int written = c.HandOverHalfOpen(new System.Span<byte>(r, s_record.Length), Time.Microseconds);
                    result = written > 0 ? listener.Handle.Client.Requeue(listener, r, written) : -Errno.EMSGSIZE;
                }
                if (result < 0 && result != -Errno.ECONNREFUSED)
                    LinuxLog.Line("network: a handshake in a lent listener could not go to the server (" + result.ToString() + "); it is lost");
                else if (result >= 0) HandshakesRequeued++;
            }
            s_onPort.Clear();
        }

        /// <summary>Handshakes this process's twins gave to the server at a loan's return (tests).</summary>
        public static int HandshakesRequeued;

        /// <summary>The twin's queue when this process accepts no more from it (the listener's
        /// descriptor closed, execve, exit): while the loan still brings the port's frames here,
        /// each connection goes to the listener's queue at the server (VfsProtocol.Requeue), where
        /// another process that holds the listener (a fork's) accepts it: Linux has one queue for
        /// a shared listener, and a worker that closes its descriptor loses none of it. A segment
        /// that reaches this ring after the move goes to the server (Tcp.MovedSegment). The server
        /// resets one it cannot queue (nobody else holds the listener: as Linux's last close does);
        /// one whose record does not fit a call is reset here.</summary>
        private static void Requeue(RemoteSocket listener)
        {
            if (!(listener.LocalListener is StreamSocket twin)) return;
            byte* peer = stackalloc byte[LinuxSocket.InetAddressLength];
            while (twin.Accept(out Socket made, peer, out _) >= 0)
            {
                var stream = (StreamSocket)made;
                int size = stream.HandOverSize;
                long result = -Errno.EMSGSIZE;
                if (size > 0 && size <= s_record.Length)
                {
                    fixed (byte* r = s_record)
                    {
                        result = stream.HandOver(new System.Span<byte>(r, size));
                        if (result > 0) result = listener.Handle.Client.Requeue(listener, r, (int)result);
                    }
                }
                if (result < 0)
                {
                    if (stream.HandOverSize > 0) stream.Connection.Abort(Time.Microseconds); // still here: reset, as the twin's close would
                    stream.Close(); // (a no-op when the record went)
                    if (result != -Errno.ECONNREFUSED)
                        LinuxLog.Line("network: a connection waiting in a lent listener's queue could not go to the server (" + result.ToString() + "); it is lost");
                }
            }
        }

        /// <summary>A connection of a proxy this listener's twin made.</summary>
        private static bool IsBornProxy(TcpConnection c, RemoteSocket listener)
        {
            for (int i = 0; i < s_local.Count; i++)
                if (s_local[i].BornOf == listener && s_local[i].Local is StreamSocket stream && stream.Connection == c) return true;
            return false;
        }

        /// <summary>Closed by the process (no proxy has it) and still finishing.</summary>
        private static bool IsClosedHere(TcpConnection c)
        {
            if (c.State != TcpState.FinWait1 && c.State != TcpState.FinWait2 && c.State != TcpState.Closing && c.State != TcpState.LastAck) return false;
            for (int i = 0; i < s_local.Count; i++)
                if (s_local[i].Local is StreamSocket stream && stream.Connection == c) return false;
            return true;
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

        /// <summary>Tcp.MovedSegment: a segment of a connection that went to the server, which
        /// reached this ring after the last look before the move (the server then had not yet taken
        /// the filter back): the server receives it (VfsProtocol.LateSegment), so the peer need not
        /// resend it (a FIN so lost cost a second, the peer's retransmission timer).</summary>
        private static void ForwardLate(Ipv4Address source, Ipv4Address destination, System.ReadOnlySpan<byte> segment)
        {
            FileCalls.Remote.LateSegment(source.Value, destination.Value, segment); // (refused: as if dropped)
        }

        /// <summary>The record buffer for the usual small connection (one system call at a time).</summary>
        private static readonly byte[] s_record = new byte[VfsProtocol.PayloadBytes];

        /// <summary>RemoteSocket.HandBack: the connection goes to the server, whose descriptor the
        /// proxy then names. One that cannot go gets a fresh, unconnected server socket (ENOTCONN
        /// from then on; a reset the process had not read yet is not carried).</summary>
        private static void HandBack(RemoteSocket socket)
        {
            // Born of a lent listener, it has no filter of its own: the loan goes back first, which
            // gives it one (or hands it back itself).
            if (socket.BornOf != null) GiveBack(socket.BornOf, keepQueued: true);
            if (socket.Local == null) return;
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
            if (socket.BornOf != null)
            {
                // Born of a lent listener: closed here, no call (its FIN and TIME_WAIT are this
                // stack's; the port's frames come here).
                socket.BornOf = null;
                stream.Close();
            }
            else if (Give(stream, 0, close: true) < 0) stream.Close(); // (a no-op when the record went)
            AfterWork();
        }

        /// <summary>Before fork, execve and exit: every loan and every connection goes back to the
        /// server (a fork's parent keeps its twins' queues to accept later; execve and exit close them).</summary>
        public static void HandBackAll(bool forFork = false)
        {
            for (int i = s_listeners.Count - 1; i >= 0; i--)
            {
                RemoteSocket listener = s_listeners[i];
                GiveBack(listener, keepQueued: forFork);
                if (!forFork) Retire(listener);
            }
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
            // Nothing came and nothing is due: the stack is as the last AfterWork left it (every
            // change made here, by a call or a step, ends with one), so there is nothing to redo.
            if (!s_link.HasFrames && now < s_nextTimer) return;
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
