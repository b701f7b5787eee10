// The file server's half of lent receives (LendArea.cs; docs/libos-unixish.md, "Lent receives"):
// when it writes a process's board slot for a TCP socket that process alone holds, the bytes
// waiting there are copied into the process's lend page (still queued here), and the slot shows
// the socket as the process will see it once it has them. What the process took is dropped from
// the socket at its next call (Handle), or when the socket next changes and every lent byte was
// taken; the rest is simply no longer lent. Pure logic; compiles under the real .NET.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe partial class VfsServer
    {
        /// <summary>A registered process's lend page (VfsProtocol.LendPage), or zero: nothing is lent to it.</summary>
        public System.Func<ulong, System.IntPtr> LendOf;

        /// <summary>Lendings made, and bytes the processes took of them (tests, /proc).</summary>
        public long Lends, LentBytesTaken;

        /// <summary>Ends whatever is lent in this process's page: the bytes it took leave their
        /// socket as a read would take them, the rest stays there, lent no more.</summary>
        public void EndLending(ulong process, byte* area)
        {
            int fd = LendArea.LentFd(area);
            if (fd < 0) return;
            OpenFile file = Own(process, (ulong)(long)fd);
            Socket socket = file != null && file.Node is SocketNode node ? node.Socket : null;
            if (socket == null || socket.Lent == 0 || socket.LentTo != process || socket.LentFd != fd)
            {
                LendArea.TakeBack(area, fd, 0); // a page showing what is not lent (any more): cleared
                return;
            }
            EndLending(socket, area);
        }

        /// <summary>A socket whose lending a call's start ended: its subscribers' slots still show it
        /// as the lender would have seen it (perhaps Empty), so they are written again once the
        /// call is done (not before: the call may read the socket, and a write may lend anew).</summary>
        private Socket _unlent;

        private void RepublishUnlent()
        {
            Socket socket = _unlent;
            _unlent = null;
            if (socket.SubscriberCount != 0) Publish(socket);
        }

        /// <summary>Ends a socket's lending from outside its lender's calls (a read by another holder).</summary>
        private void EndLendingOf(Socket socket)
        {
            byte* area = LendOf == null ? null : (byte*)LendOf(socket.LentTo);
            if (area != null) { EndLending(socket, area); return; }
            socket.Lent = 0; // the lender's page is gone: nothing of it was taken that anyone will see
            socket.LentTo = 0;
        }

        private void EndLending(Socket socket, byte* area)
        {
            int taken = LendArea.TakeBack(area, socket.LentFd, socket.Lent);
            socket.Lent = 0;
            socket.LentTo = 0;
            _unlent = socket;
            if (taken == 0) return;
            socket.DropLent(taken);
            LentBytesTaken += taken;
            SocketsTouched = true; // the window opened: an update may go out, timers move
        }

        /// <summary>Writing the slot of 'process' (its descriptor fd of the socket): takes back what
        /// it took if it took everything lent, lends what waits if nothing is lent and the page
        /// is free, and gives revents and the Empty flag as the process sees the socket.</summary>
        private void LendOnWrite(Socket socket, ulong process, int fd, OpenFile file, ref short revents, ref bool empty)
        {
            byte* area = (byte*)LendOf(process);
            if (area == null) return;
            if (socket.Lent > 0)
            {
                if (socket.LentTo != process || socket.LentFd != fd) return; // another's (never with one holder)
                if (!LendArea.AllTaken(area))
                {
                    socket.BeyondLent(socket.Lent, ref revents, ref empty);
                    return;
                }
                EndLending(socket, area);
                if (_unlent == socket) _unlent = null; // (this write shows it)
                revents = socket.Poll();
                empty = socket.ReceiveWouldWait;
            }
            // Only a description one descriptor holds: no other process could read these bytes.
            if (file.References != 1 || !LendArea.Free(area)) return;
            int n = socket.PeekForLending(area + LendArea.Data, LendArea.Bytes);
            if (n <= 0) return;
            LendArea.Lend(area, fd, n);
            socket.Lent = n;
            socket.LentTo = process;
            socket.LentFd = fd;
            Lends++;
            socket.BeyondLent(n, ref revents, ref empty);
        }
    }
}
