// The file server's half of connections a process runs itself (docs/libos-unixish.md,
// "Connections run by the process"). Accept with VfsProtocol.AcceptHere: when the accepted socket
// is a TCP connection whose record fits the reply, and the machine's hook (GiveConnection) gave the
// caller a filter for the connection's frames, the connection leaves this server's stack
// (StreamSocket.HandOver) and the reply carries the route (HandoverInfo) and the record; no
// descriptor is made. Adopt brings a record back (AdoptAndClose: to be closed at once), in pieces in order (staged per sender, as a large
// datagram is), takes the connection over into this stack and answers a descriptor for it; the
// filter given for it (to that same sender only) is taken back. A process that says Goodbye with
// connections still out gets their filters taken back: stray segments then reach this stack,
// which answers them with a reset. Lend gives a process a listener's port instead (the twin in its
// stack makes the connections; docs/libos-unixish.md, "The listener in the process"), LendBack
// takes it back after giving each connection the process keeps a filter of its own.
// Pure logic; compiles under the real .NET.
using System.Collections.Generic;
using Aegis.LibOS.Unixish.Linux.Net;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    /// <summary>What a process needs to send a connection's segments itself (VfsProtocol.HandoverInfo).</summary>
    public struct HandoverRoute
    {
        /// <summary>This machine's address, mask and router (Ipv4Address values).</summary>
        public uint Address, Mask, Router;
        /// <summary>The next hop's MAC for the connection's peer (MacAddress's value).</summary>
        public ulong NextHopMac;
    }

    /// <summary>Gives process a filter that brings it the frames of the connection (host-order
    /// address values, ports) and fills the route: the filter's id, or -1 (refused: no card, no
    /// ring in the process, an unknown next hop).</summary>
    public delegate int ConnectionGiver(ulong process, uint local, int localPort, uint remote, int remotePort, out HandoverRoute route);

    /// <summary>Gives process a filter that brings it every TCP frame to address:port (the port of
    /// a listener: its SYNs and the segments of the connections it makes) and fills the route (the
    /// next hop: the router); the filter's id, or -1 (refused).</summary>
    public delegate int ListenerGiver(ulong process, uint address, int port, out HandoverRoute route);

    public sealed unsafe partial class VfsServer
    {
        /// <summary>The machine's (NetService): null, never hand over.</summary>
        public ConnectionGiver GiveConnection;
        /// <summary>The machine's: hands the stack the frames already in the server's ring, once the
        /// filter is given and before the connection moves (a segment of it waiting there would
        /// otherwise reach the stack after the move and be dropped: the peer's retransmission
        /// timer, a second or more early in a connection, found by connection-per-request loads).</summary>
        public System.Action DeliverWaiting;
        /// <summary>The machine's: removes a filter GiveConnection gave (this server is its giver).</summary>
        public System.Action<int> TakeFilterBack;
        /// <summary>Connections handed over and taken back (/proc/aegis/handover: VfsProtocol.ServerCalls' facts).</summary>
        public long HandedOverCount, AdoptedCount;

        private struct GivenFilter
        {
            public ulong Process;
            public uint Local, Remote;
            public int LocalPort, RemotePort, Id;
        }

        private readonly List<GivenFilter> _given = new List<GivenFilter>();

        private sealed class StagedRecord
        {
            public byte[] Bytes;
            public int Filled;
        }

        private readonly Dictionary<ulong, StagedRecord> _records = new Dictionary<ulong, StagedRecord>();

        /// <summary>The largest record Adopt takes: the header and both queues at their largest.</summary>
        public const int MaximumRecordBytes = LibOS.Net.TcpConnection.HandoverHeaderBytes + 2 * LibOS.Net.Tcp.MaximumBufferBytes;

        /// <summary>Accept's hand over: the record's length (the reply written), or 0 (keep it here).</summary>
        private long HandOverAccepted(ulong sender, StreamSocket stream, byte* payload)
        {
            if (GiveConnection == null) return 0;
            int size = stream.HandOverSize;
            if (size <= 0 || VfsProtocol.HandoverRecord + size > VfsProtocol.PayloadBytes) return 0;
            if (!stream.Tuple(out uint local, out int localPort, out uint remote, out int remotePort)) return 0;
            int id = GiveConnection(sender, local, localPort, remote, remotePort, out HandoverRoute route);
            if (id < 0) return 0;
            DeliverWaiting?.Invoke(); // (the record may grow: HandOver below checks the room again)
            long written = stream.HandOver(new System.Span<byte>(payload + VfsProtocol.HandoverRecord, VfsProtocol.PayloadBytes - VfsProtocol.HandoverRecord));
            if (written <= 0)
            {
                TakeFilterBack?.Invoke(id);
                return 0;
            }
            WriteRoute(payload, route);
            _given.Add(new GivenFilter { Process = sender, Local = local, LocalPort = localPort, Remote = remote, RemotePort = remotePort, Id = id });
            HandedOverCount++;
            return written;
        }

        /// <summary>VfsProtocol.Adopt: 0 for a piece, the new descriptor for the last, or -errno
        /// (the staging forgotten: the sender starts again from offset 0).</summary>
        private long Adopt(ulong sender, ulong w1, ulong w2, ulong w3, byte* payload)
        {
            if (!(Sockets is InetSockets inet)) return -Errno.EAFNOSUPPORT;
            long total = (long)w1, offset = (uint)w2, piece = (long)w3;
            if ((w2 & VfsProtocol.AdoptForget) != 0)
            {
                int* tuple = (int*)payload;
                TakeBackGiven(sender, (uint)tuple[0], tuple[1], (uint)tuple[2], tuple[3]);
                return 0;
            }
            bool nonBlocking = ((w2 >> 32) & LinuxSocket.SOCK_NONBLOCK) != 0, close = (w2 & VfsProtocol.AdoptAndClose) != 0;
            _records.TryGetValue(sender, out StagedRecord staged);
            if (total <= 0 || total > MaximumRecordBytes || piece <= 0 || piece > VfsProtocol.PayloadBytes || offset + piece > total
                || (offset == 0) != (staged == null) || (staged != null && (staged.Bytes.Length != total || staged.Filled != offset)))
            {
                _records.Remove(sender);
                return -Errno.EINVAL;
            }
            byte[] bytes;
            if (offset + piece == total && offset == 0)
            {
                // One piece (the usual case): taken over straight from the payload.
                return TakeOverRecord(sender, inet, new System.ReadOnlySpan<byte>(payload, (int)total), nonBlocking, close);
            }
            if (staged == null) _records[sender] = staged = new StagedRecord { Bytes = new byte[total] };
            bytes = staged.Bytes;
            new System.ReadOnlySpan<byte>(payload, (int)piece).CopyTo(new System.Span<byte>(bytes, (int)offset, (int)piece));
            staged.Filled = (int)(offset + piece);
            if (staged.Filled < total) return 0;
            _records.Remove(sender);
            return TakeOverRecord(sender, inet, bytes, nonBlocking, close);
        }

        private long TakeOverRecord(ulong sender, InetSockets inet, System.ReadOnlySpan<byte> record, bool nonBlocking, bool close)
        {
            LibOS.Net.TcpConnection connection = inet.Tcp.TakeOver(record, inet.Clock(), out LibOS.Net.TcpError error);
            if (connection == null) return error == LibOS.Net.TcpError.AddressInUse ? -Errno.EADDRINUSE : -Errno.EINVAL;
            StreamSocket socket = inet.Adopt(connection);
            // The filter given for it (to this sender only) goes: its frames come here again.
            socket.Tuple(out uint local, out int localPort, out uint remote, out int remotePort);
            TakeBackGiven(sender, local, localPort, remote, remotePort);
            RememberAdopted(sender, local, localPort, remote, remotePort, inet.Clock());
            AdoptedCount++;
            if (!close) return InstallSocket(sender, socket, nonBlocking);
            socket.Close(); // the process's last descriptor closed: as a close here would
            return 0;
        }

        // ---- late segments: those that reached the process between its last look at its ring and
        // the moment the filter came back here (the peer would resend them only after its timer)

        private struct Adopted
        {
            public ulong Process;
            public uint Local, Remote;
            public int LocalPort, RemotePort;
            public long Until;
        }

        /// <summary>How long after an Adopt the process may give this server the connection's late segments.</summary>
        public const long LateSegmentMicros = 2_000_000;
        private const int AdoptedKept = 32;
        private readonly Adopted[] _adopted = new Adopted[AdoptedKept];
        private int _adoptedNext;

        private void RememberAdopted(ulong sender, uint local, int localPort, uint remote, int remotePort, long now)
        {
            _adopted[_adoptedNext] = new Adopted { Process = sender, Local = local, LocalPort = localPort, Remote = remote, RemotePort = remotePort, Until = now + LateSegmentMicros };
            _adoptedNext = (_adoptedNext + 1) % AdoptedKept;
        }

        /// <summary>A port whose frames went to a process and came back here (a loan returned or
        /// undone): for LateSegmentMicros the process may give this server what reached its ring
        /// before the filter came back (a SYN, a handshake's ACK), as it may an adopted connection's.</summary>
        private struct ReturnedPort
        {
            public ulong Process;
            public uint Local;
            public int Port;
            public long Until;
        }

        private const int ReturnedPortsKept = 8;
        private readonly ReturnedPort[] _returnedPorts = new ReturnedPort[ReturnedPortsKept];
        private int _returnedPortNext;

        private void RememberReturnedPort(ulong sender, uint local, int port, long now)
        {
            _returnedPorts[_returnedPortNext] = new ReturnedPort { Process = sender, Local = local, Port = port, Until = now + LateSegmentMicros };
            _returnedPortNext = (_returnedPortNext + 1) % ReturnedPortsKept;
        }

        /// <summary>VfsProtocol.LateSegment: a segment of a connection the sender gave back by Adopt
        /// or Requeue, or to a port whose loan it gave back (or whose Lend was undone), within
        /// LateSegmentMicros, received here as if it had come from the card (the stack checks it as
        /// any segment: its checksum, its sequence numbers; a SYN meets the listener). Anything else
        /// is -EPERM: a process can add nothing to a connection or port it did not just give back.</summary>
        private long LateSegment(ulong sender, ulong w1, ulong w2, byte* payload)
        {
            if (!(Sockets is InetSockets inet)) return -Errno.EAFNOSUPPORT;
            if (w1 < 20 || w1 > VfsProtocol.PayloadBytes) return -Errno.EINVAL;
            uint source = (uint)w2, destination = (uint)(w2 >> 32);
            int sourcePort = payload[0] << 8 | payload[1], destinationPort = payload[2] << 8 | payload[3];
            long now = inet.Clock();
            bool known = false;
            for (int i = 0; i < AdoptedKept && !known; i++)
            {
                Adopted a = _adopted[i];
                known = a.Process == sender && a.Until > now && a.Local == destination && a.LocalPort == destinationPort
                    && a.Remote == source && a.RemotePort == sourcePort;
            }
            bool port = false;
            for (int i = 0; i < ReturnedPortsKept && !known; i++)
            {
                ReturnedPort r = _returnedPorts[i];
                known = port = r.Process == sender && r.Until > now && r.Local == destination && r.Port == destinationPort;
            }
            if (!known) return -Errno.EPERM;
            if (port) LatePortSegments++;
            inet.Tcp.Receive(new LibOS.Net.Ipv4Address(source), new LibOS.Net.Ipv4Address(destination), new System.ReadOnlySpan<byte>(payload, (int)w1), now);
            return 0;
        }

        /// <summary>Takes back the filters given to sender for the connection (none: nothing happens).</summary>
        private void TakeBackGiven(ulong sender, uint local, int localPort, uint remote, int remotePort)
        {
            for (int i = _given.Count - 1; i >= 0; i--)
            {
                GivenFilter given = _given[i];
                if (given.Process != sender || given.Local != local || given.LocalPort != localPort || given.Remote != remote || given.RemotePort != remotePort) continue;
                _given.RemoveAt(i);
                TakeFilterBack?.Invoke(given.Id);
            }
        }

        /// <summary>Goodbye's part: the filters given to the process go, with any record it was sending.</summary>
        private void ForgetHandovers(ulong sender)
        {
            _records.Remove(sender);
            for (int i = _lent.Count - 1; i >= 0; i--)
            {
                if (_lent[i].Process != sender) continue;
                int id = _lent[i].Id;
                _lent.RemoveAt(i);
                TakeFilterBack?.Invoke(id);
            }
            for (int i = _given.Count - 1; i >= 0; i--)
            {
                if (_given[i].Process != sender) continue;
                int id = _given[i].Id;
                _given.RemoveAt(i);
                TakeFilterBack?.Invoke(id);
            }
        }

        /// <summary>Holders' part: the processes with handover records or lent or given filters.</summary>
        private void HandoverHolders(System.Collections.Generic.List<ulong> holders)
        {
            foreach (ulong sender in _records.Keys) AddOnce(holders, sender);
            for (int i = 0; i < _lent.Count; i++) AddOnce(holders, _lent[i].Process);
            for (int i = 0; i < _given.Count; i++) AddOnce(holders, _given[i].Process);
        }

        private bool HoldsHandover(ulong process)
        {
            if (_records.ContainsKey(process)) return true;
            for (int i = 0; i < _lent.Count; i++) if (_lent[i].Process == process) return true;
            for (int i = 0; i < _given.Count; i++) if (_given[i].Process == process) return true;
            return false;
        }

        /// <summary>Filters given to processes and not yet taken back.</summary>
        public int GivenFilters => _given.Count;

        // ---- the listener in the process (docs/libos-unixish.md, "The listener in the process")

        /// <summary>The machine's (NetService): null, never lend.</summary>
        public ListenerGiver GiveListener;
        /// <summary>Listeners lent so far (/proc/aegis/handover's "lent").</summary>
        public long LentCount;
        /// <summary>Lends undone because the server's stack made a handshake on the port meanwhile
        /// ("lends_undone"), and segments processes gave for a returned port ("late_port_segments").</summary>
        public long LendsUndone, LatePortSegments;

        private struct LentListener
        {
            public ulong Process;
            public Net.StreamSocket Socket;
            public int Port, Id;
        }

        private readonly List<LentListener> _lent = new List<LentListener>();

        /// <summary>Listeners lent now (tests).</summary>
        public int LentListeners => _lent.Count;

        /// <summary>VfsProtocol.Lend: the listener's port frames go to the sender, whose own stack
        /// answers its handshakes and runs its connections from their first segment; the listener
        /// stays here (connections from inside the machine are still made here, and accepted
        /// through it). Only while no connection of this stack on that port needs the card's
        /// frames (NeedsFramesOnPort: checked again after the filter is given and the frames
        /// already in the ring delivered, so a SYN that came before the filter is never answered by
        /// two stacks). The port, or -EOPNOTSUPP (no card), -EINVAL (not a TCP listener on this
        /// machine's address), -EALREADY (lent already), -EBUSY (connections here need the port; reply1
        /// the port when the filter was given and taken back: what reached the sender meanwhile it
        /// gives here by LateSegment).</summary>
        private long Lend(ulong sender, Socket socket, byte* payload, out ulong reply1)
        {
            reply1 = 0;
            if (GiveListener == null) return -Errno.EOPNOTSUPP;
            if (!(socket is Net.StreamSocket stream) || !stream.Listening(out uint bound, out int port)) return -Errno.EINVAL;
            for (int i = 0; i < _lent.Count; i++)
                if (_lent[i].Socket == stream) return -Errno.EALREADY;
            Net.InetSockets inet = stream.Owner;
            LibOS.Net.Ipv4Address own = inet.Stack.Address;
            if (own.Value == 0 || (bound != 0 && bound != own.Value)) return -Errno.EINVAL;
            if (inet.Tcp.NeedsFramesOnPort(port, own)) return -Errno.EBUSY;
            int id = GiveListener(sender, own.Value, port, out HandoverRoute route);
            if (id < 0) return -Errno.EOPNOTSUPP;
            DeliverWaiting?.Invoke();
            if (inet.Tcp.NeedsFramesOnPort(port, own))
            {
                TakeFilterBack?.Invoke(id);
                // Frames of the port may have reached the sender meanwhile: it gives them here.
                RememberReturnedPort(sender, own.Value, port, inet.Clock());
                reply1 = (ulong)port;
                LendsUndone++;
                return -Errno.EBUSY;
            }
            WriteRoute(payload, route);
            _lent.Add(new LentListener { Process = sender, Socket = stream, Port = port, Id = id });
            LentCount++;
            // The sender's connections on the port handed over before: the port's filter brings
            // their frames now, and the process runs them as the twin's (their close stays there).
            for (int i = _given.Count - 1; i >= 0; i--)
            {
                GivenFilter given = _given[i];
                if (given.Process != sender || given.LocalPort != port || given.Local != own.Value) continue;
                _given.RemoveAt(i);
                TakeFilterBack?.Invoke(given.Id);
            }
            return port;
        }

        /// <summary>VfsProtocol.LendBack: the sender keeps running the connections it lists (each
        /// gets a filter of its own, as a handed-over one has: Adopt brings it back later), then
        /// the port's filter comes back. How many were given (the payload: an int each, 1 when
        /// given), or -EINVAL (this sender holds no such loan, or a bad count).</summary>
        private long LendBack(ulong sender, Socket socket, ulong count, byte* payload)
        {
            int at = -1;
            for (int i = 0; i < _lent.Count; i++)
                if (_lent[i].Socket == socket && _lent[i].Process == sender) at = i;
            if (at < 0 || count > VfsProtocol.MaximumKept) return -Errno.EINVAL;
            LentListener lent = _lent[at];
            int n = (int)count;
            int* tuples = stackalloc int[4 * VfsProtocol.MaximumKept];
            System.Buffer.MemoryCopy(payload, tuples, n * VfsProtocol.LendTupleBytes, n * VfsProtocol.LendTupleBytes);
            int given = 0;
            for (int i = 0; i < n; i++)
            {
                uint local = (uint)tuples[4 * i], remote = (uint)tuples[4 * i + 2];
                int localPort = tuples[4 * i + 1], remotePort = tuples[4 * i + 3];
                int id = localPort != lent.Port || GiveConnection == null ? -1 : GiveConnection(sender, local, localPort, remote, remotePort, out _);
                ((int*)payload)[i] = id >= 0 ? 1 : 0;
                if (id < 0) continue;
                _given.Add(new GivenFilter { Process = sender, Local = local, LocalPort = localPort, Remote = remote, RemotePort = remotePort, Id = id });
                given++;
            }
            _lent.RemoveAt(at);
            TakeFilterBack?.Invoke(lent.Id);
            // What reached the process's ring before the filter came back, it gives here (LateSegment).
            RememberReturnedPort(sender, lent.Socket.Owner.Stack.Address.Value, lent.Port, lent.Socket.Owner.Clock());
            return given;
        }

        /// <summary>VfsProtocol.Requeue: a connection the sender's twin of a listener lent to it made
        /// and nobody there accepted (the process closed its descriptor of the listener, or is
        /// leaving: execve, exit) joins the listener's queue here, where any process that holds
        /// the listener accepts it — Linux's one accept queue for a listener shared after fork.
        /// Only the borrower, only while the loan lasts, only for the lent port and this machine's
        /// address: a borrower gets those frames anyway. 0, -ECONNREFUSED (the listener stopped
        /// listening or its queue is full: the connection was reset, as Linux resets one then),
        /// -EINVAL (no such loan, another port or address, a bad record: nothing taken).</summary>
        private long Requeue(ulong sender, Socket socket, ulong length, byte* payload)
        {
            int at = -1;
            for (int i = 0; i < _lent.Count; i++)
                if (_lent[i].Socket == socket && _lent[i].Process == sender) at = i;
            if (at < 0 || length == 0 || length > VfsProtocol.PayloadBytes) return -Errno.EINVAL;
            Net.StreamSocket listener = _lent[at].Socket;
            Net.InetSockets inet = listener.Owner;
            var record = new System.ReadOnlySpan<byte>(payload, (int)length);
            if (!LibOS.Net.Tcp.RecordTuple(record, out LibOS.Net.Ipv4Address local, out int localPort, out LibOS.Net.Ipv4Address remote, out int remotePort,
                    out LibOS.Net.TcpState state)
                || localPort != _lent[at].Port || local.Value != inet.Stack.Address.Value) return -Errno.EINVAL;
            long now = inet.Clock();
            // A handshake the twin answered (SYN_RECEIVED) becomes the listener's here; the peer's
            // final ACK, which reaches the process after the move, comes here too (LateSegment).
            LibOS.Net.TcpConnection connection = inet.Tcp.TakeOver(record, now, out LibOS.Net.TcpError error, halfOpen: state == LibOS.Net.TcpState.SynReceived);
            if (connection == null) return error == LibOS.Net.TcpError.AddressInUse ? -Errno.EADDRINUSE : -Errno.EINVAL;
            // Its segments that reach the process after the move come here (LateSegment), as an adopted one's.
            TakeBackGiven(sender, local.Value, localPort, remote.Value, remotePort);
            RememberAdopted(sender, local.Value, localPort, remote.Value, remotePort, now);
            RequeuedCount++;
            if (state == LibOS.Net.TcpState.SynReceived) RequeuedHandshakes++;
            return listener.Enqueue(connection) ? 0 : -Errno.ECONNREFUSED;
        }

        /// <summary>Connections a borrower's twin made that this server took over by Requeue: queued, or reset
        /// when the listener could not queue them (tests).</summary>
        public long RequeuedCount;

        /// <summary>Of those, handshakes in progress (SYN_RECEIVED) (/proc/aegis/handover's "handshakes_requeued").</summary>
        public long RequeuedHandshakes;

        private static void WriteRoute(byte* payload, in HandoverRoute route)
        {
            byte* info = payload + VfsProtocol.HandoverInfo;
            new System.Span<byte>(info, VfsProtocol.HandoverInfoBytes).Clear();
            *(uint*)info = route.Address;
            *(uint*)(info + 4) = route.Mask;
            *(uint*)(info + 8) = route.Router;
            *(ulong*)(info + 16) = route.NextHopMac;
        }
    }
}
