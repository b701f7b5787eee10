// The file server's half of lent receives (LendArea.cs; docs/libos-unixish.md, "Lent receives"):
// when it writes a process's board slot for a TCP socket that process alone holds, the bytes
// waiting there are copied into a free area of the process's lend page (still queued here), and
// the slot shows the socket as the process will see it once it has them. What the process took is
// dropped from the socket at its next call (Handle), or when the socket's slot is next written
// and every lent byte was taken; the rest is simply no longer lent. Pure logic; compiles under the
// real .NET.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe partial class VfsServer
    {
        /// <summary>A registered process's lend page (VfsProtocol.LendPage), or zero: nothing is lent to it.</summary>
        public System.Func<ulong, System.IntPtr> LendOf;

        /// <summary>Lendings made, and bytes the processes took of them (tests, /proc).</summary>
        public long Lends, LentBytesTaken;

        /// <summary>Sockets whose lending a call's start ended: their subscribers' slots still show
        /// them as the lender would have seen them (perhaps Empty), so they are written again once
        /// the call is done (not before: the call may read the socket, and a write may lend anew).</summary>
        private readonly Socket[] _unlent = new Socket[LendArea.Areas];
        private int _unlentCount;

        /// <summary>Ends whatever is lent in this process's page: the bytes it took leave their
        /// sockets as a read would take them, the rest stays there, lent no more. With republish
        /// (a call's start) their slots are written again once the call is done; without (the
        /// server letting the process's buffer go: its board is cleared) they are not.</summary>
        public void EndLending(ulong process, byte* page, bool republish = true)
        {
            for (int i = 0; i < LendArea.Areas; i++)
            {
                byte* area = page + i * LendArea.AreaBytes;
                int fd = LendArea.LentFd(area);
                if (fd < 0) continue;
                OpenFile file = Own(process, (ulong)(long)fd);
                Socket socket = file != null && file.Node is SocketNode node ? node.Socket : null;
                if (socket == null || socket.Lent == 0 || socket.LentTo != process || socket.LentFd != fd || socket.LentArea != i)
                {
                    LendArea.TakeBack(area, fd, 0); // an area showing what is not lent (any more): cleared
                    continue;
                }
                EndLending(socket, area);
                if (republish) _unlent[_unlentCount++] = socket; // (at most Areas: emptied after every call)
            }
        }

        private void RepublishUnlent()
        {
            for (int i = 0; i < _unlentCount; i++)
            {
                Socket socket = _unlent[i];
                _unlent[i] = null;
                if (socket.SubscriberCount != 0) Publish(socket);
            }
            _unlentCount = 0;
        }

        /// <summary>Ends a socket's lending from outside its lender's calls (a read by another holder).</summary>
        private void EndLendingOf(Socket socket)
        {
            byte* page = LendOf == null ? null : (byte*)LendOf(socket.LentTo);
            if (page != null) { EndLending(socket, page + socket.LentArea * LendArea.AreaBytes); return; }
            socket.Lent = 0; // the lender's page is gone: nothing of it was taken that anyone will see
            socket.LentTo = 0;
        }

        private void EndLending(Socket socket, byte* area)
        {
            int taken = LendArea.TakeBack(area, socket.LentFd, socket.Lent);
            socket.Lent = 0;
            socket.LentTo = 0;
            if (taken == 0) return;
            socket.DropLent(taken);
            LentBytesTaken += taken;
            SocketsTouched = true; // the window opened: an update may go out, timers move
        }

        /// <summary>Writing the slot of 'process' (its descriptor fd of the socket): takes back what
        /// it took if it took everything lent, lends what waits if nothing is lent and an area is
        /// free, and gives revents and the Empty flag as the process sees the socket.</summary>
        private void LendOnWrite(Socket socket, ulong process, int fd, OpenFile file, ref short revents, ref bool empty)
        {
            byte* page = (byte*)LendOf(process);
            if (page == null) return;
            if (socket.Lent > 0)
            {
                if (socket.LentTo != process || socket.LentFd != fd) return; // another's (never with one holder)
                byte* lent = page + socket.LentArea * LendArea.AreaBytes;
                if (!LendArea.AllTaken(lent))
                {
                    socket.BeyondLent(socket.Lent, ref revents, ref empty);
                    return;
                }
                EndLending(socket, lent);
                revents = socket.Poll();
                empty = socket.ReceiveWouldWait;
            }
            // Only a description one descriptor holds: no other process could read these bytes.
            if (file.References != 1 || socket.ReadableBytes <= 0) return;
            byte* area = LendArea.FreeArea(page);
            if (area == null) return;
            int n = socket.PeekForLending(area + LendArea.Data, LendArea.Bytes);
            if (n <= 0) return;
            LendArea.Lend(area, fd, n);
            socket.Lent = n;
            socket.LentTo = process;
            socket.LentFd = fd;
            socket.LentArea = (int)((area - page) / LendArea.AreaBytes);
            Lends++;
            socket.BeyondLent(n, ref revents, ref empty);
        }
    }
}
