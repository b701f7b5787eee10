// The file server's half of the readiness boards (ReadinessBoard.cs; docs/libos-unixish.md,
// "Sockets"): subscribing a process's board slot to a socket (PollMany with
// VfsProtocol.PollSubscribe), and writing the slots of a socket's subscribers after every call on
// it and whenever it is on a changed list (Socket.Published). Pure logic; compiles under the real
// .NET (host tests give boards of their own through BoardOf).
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe partial class VfsServer
    {
        /// <summary>A registered process's buffer (its board at VfsProtocol.Board), or null: then its
        /// subscriptions are dropped and it asks the server as before. Null: no boards at all.</summary>
        public System.Func<ulong, System.IntPtr> BoardOf;
        /// <summary>Sends a process one wake message (SharedPipe.WakeTag): a board it waits on changed.</summary>
        public System.Action<ulong> WakeProcess;
        private System.Action<Socket> _publish;

        /// <summary>Slots written, and wakes sent for them (tests).</summary>
        public long BoardWrites, BoardWakes;

        /// <summary>Records sender's board slot as showing the socket of its descriptor fd and writes
        /// the slot now; false (nothing recorded) without boards, for a slot out of range, or when
        /// the socket has MaximumSubscribers others that are all still valid.</summary>
        private bool Subscribe(ulong sender, int fd, Socket socket, int slot)
        {
            if (BoardOf == null || slot < 0 || slot >= ReadinessBoard.Slots) return false;
            if (_publish == null) _publish = Publish;
            socket.Published = _publish;
            int free = -1;
            for (int i = 0; i < Socket.MaximumSubscribers; i++)
            {
                ulong process = socket.SubscriberProcess[i];
                if (process == sender && (socket.SubscriberFd[i] == fd || socket.SubscriberSlot[i] == slot)) { free = i; break; }
                if (process == 0 || !StillShows(socket, i)) { if (free < 0) free = i; }
            }
            if (free < 0) return false;
            if (socket.SubscriberProcess[free] == 0) socket.SubscriberCount++;
            socket.SubscriberProcess[free] = sender;
            socket.SubscriberFd[free] = fd;
            socket.SubscriberSlot[free] = slot;
            return WriteSlot(socket, free, false);
        }

        /// <summary>Every subscriber's slot gets the socket's readiness now; a subscriber waiting on
        /// its board is woken. Entries no longer valid are dropped.</summary>
        public void Publish(Socket socket)
        {
            if (socket.SubscriberCount == 0) return;
            for (int i = 0; i < Socket.MaximumSubscribers; i++)
                if (socket.SubscriberProcess[i] != 0) WriteSlot(socket, i, true);
        }

        /// <summary>Whether entry i still names a descriptor its process holds of this socket (else it is dropped).</summary>
        private bool StillShows(Socket socket, int i)
        {
            ulong process = socket.SubscriberProcess[i];
            if (process == 0) return false;
            OpenFile file = Own(process, (ulong)(long)socket.SubscriberFd[i]);
            if (file != null && file.Node is SocketNode node && node.Socket == socket) return true;
            Drop(socket, i);
            return false;
        }

        private static void Drop(Socket socket, int i)
        {
            socket.SubscriberProcess[i] = 0;
            socket.SubscriberCount--;
        }

        private bool WriteSlot(Socket socket, int i, bool wake)
        {
            ulong process = socket.SubscriberProcess[i];
            int fd = socket.SubscriberFd[i];
            OpenFile file = Own(process, (ulong)(long)fd);
            byte* board = BoardOf == null ? null : (byte*)BoardOf(process);
            if (board == null || file == null || !(file.Node is SocketNode node) || node.Socket != socket)
            {
                Drop(socket, i);
                return false;
            }
            short revents = socket.Poll();
            bool empty = socket.ReceiveWouldWait;
            if (LendOf != null) LendOnWrite(socket, process, fd, file, ref revents, ref empty);
            ushort flags = (ushort)((empty ? ReadinessBoard.Empty : 0) | (file.NonBlocking ? ReadinessBoard.NonBlocking : 0)
                | (socket.SendTakes(VfsProtocol.HoldBytes) ? ReadinessBoard.Roomy : 0));
            ReadinessBoard.Write(board, socket.SubscriberSlot[i], fd, revents, flags, socket.Changes);
            BoardWrites++;
            if (wake && ReadinessBoard.TakeWaiting(board))
            {
                BoardWakes++;
                WakeProcess?.Invoke(process);
            }
            return true;
        }

        /// <summary>After a call on the socket of descriptor w1 (a receive may have emptied it, a
        /// send filled it, F_SETFL changed its description): its subscribers' slots.</summary>
        private void PublishCalled(ulong sender, ulong w1)
        {
            OpenFile file = Own(sender, w1);
            if (file != null && file.Node is SocketNode node && node.Socket.SubscriberCount != 0) Publish(node.Socket);
        }
    }
}
