// The calls a connection running in this process answers itself (RemoteSocket.Local; the stack:
// Linux/Net/LocalNet.cs; docs/libos-unixish.md, "Connections run by the process"). The socket is
// the server's own StreamSocket class over the process's stack, so the answers are the server's.
// A call not served here asks for RemoteSocket.Handle, which hands the connection back first.
// Served here: read, recv, recvfrom (flags: MSG_DONTWAIT, MSG_PEEK), write, send, sendto without
// an address (MSG_DONTWAIT, MSG_NOSIGNAL, MSG_MORE), readv, writev, sendfile's writes, shutdown,
// setsockopt of TCP's options and SOL_SOCKET's but the timeouts, poll, epoll. Only descriptions
// with O_NONBLOCK run here (accept4's SOCK_NONBLOCK; F_SETFL and FIONBIO hand back), so nothing
// here blocks. Pure logic; compiles under the real .NET.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public static unsafe class LocalSockets
    {
        /// <summary>The stack's frames and timers (LocalNet.Step), before a call; its deadline after
        /// one (LocalNet.AfterWork). Null on the host.</summary>
        public static delegate*<void> Step, Done;

        // The policy (a libOS's own): moving a connection costs a filter given and taken back, and
        // the kernel recompiles its filters at each; a connection that carries one request and
        // closes gains nothing from it (nginx, a new connection a request: about 730 a second
        // moved, 1,000 not; docs/libos-unixish.md has the figures). After ShortLimit such connections in a row (at most one receive with bytes each,
        // wherever they ran) the process accepts through the server, and asks again one accept in
        // RetryEvery; a connection that carried more ends the streak.
        public const int ShortLimit = 8, RetryEvery = 64;
        private static int s_shortStreak, s_accepts;

        /// <summary>Whether this accept should ask to run the connection here (the policy above).</summary>
        public static bool Worthwhile => s_shortStreak < ShortLimit || ++s_accepts % RetryEvery == 0;

        /// <summary>A stream socket's last descriptor closed (here or at the server): the policy's count.</summary>
        public static void Finished(RemoteSocket socket)
        {
            if (socket.SocketType != LinuxSocket.SOCK_STREAM) return;
            if (socket.Receives <= 1) { if (s_shortStreak < ShortLimit) s_shortStreak++; }
            else s_shortStreak = 0;
        }

        /// <summary>A fork's child starts with no history.</summary>
        public static void ForgetHistory() { s_shortStreak = 0; s_accepts = 0; }

        private const int ReceiveFlags = LinuxSocket.MSG_DONTWAIT | LinuxSocket.MSG_PEEK;
        private const int SendFlags = LinuxSocket.MSG_DONTWAIT | LinuxSocket.MSG_NOSIGNAL | LinuxSocket.MSG_MORE;

        /// <summary>Whether a receive with these flags is served here.</summary>
        public static bool Receives(RemoteSocket socket, int flags) => socket.Local != null && (flags & ~ReceiveFlags) == 0;

        /// <summary>Whether a send with these flags (and no address) is served here.</summary>
        public static bool Sends(RemoteSocket socket, int flags, int addressLength) =>
            socket.Local != null && (flags & ~SendFlags) == 0 && addressLength == 0;

        public static long Receive(RemoteSocket socket, byte* data, long length, int flags)
        {
            if (length < 0) return -Errno.EINVAL;
            if (Step != null) Step();
            long got = socket.Local.Receive(data, length > int.MaxValue ? int.MaxValue : (int)length, flags, null, out _);
            if (got > 0) socket.Receives++;
            if (Done != null) Done();
            return got;
        }

        public static long Send(RemoteSocket socket, byte* data, long length)
        {
            if (length < 0) return -Errno.EINVAL;
            if (Step != null) Step();
            long sent = socket.Local.Send(data, length > int.MaxValue ? int.MaxValue : (int)length, 0, null, 0, default);
            if (Done != null) Done();
            return sent;
        }

        /// <summary>readv/recvmsg's pieces, in order, until one comes back short.</summary>
        public static long ReceivePieces(RemoteSocket socket, ulong* iov, long count, int flags)
        {
            long done = 0;
            int receives = socket.Receives;
            for (long i = 0; i < count; i++)
            {
                long length = (long)iov[2 * i + 1];
                if (length == 0) continue;
                long got = Receive(socket, (byte*)iov[2 * i], length, flags);
                if (got < 0)
                {
                    if (done == 0) done = got;
                    break;
                }
                done += got;
                if (got < length) break;
            }
            if (socket.Receives > receives) socket.Receives = receives + 1; // one readv is one receive (the policy's count)
            return done;
        }

        /// <summary>writev/sendmsg's pieces, in order, until one goes short.</summary>
        public static long SendPieces(RemoteSocket socket, ulong* iov, long count)
        {
            long done = 0;
            for (long i = 0; i < count; i++)
            {
                long length = (long)iov[2 * i + 1];
                if (length == 0) continue;
                long sent = Send(socket, (byte*)iov[2 * i], length);
                if (sent < 0) return done > 0 ? done : sent;
                done += sent;
                if (sent < length) break;
            }
            return done;
        }

        /// <summary>Whether setsockopt(level, name) is served here: everything but the timeouts (the server keeps those).</summary>
        public static bool SetsOption(RemoteSocket socket, int level, int name) =>
            socket.Local != null && (level == LinuxSocket.IPPROTO_TCP
                || (level == LinuxSocket.SOL_SOCKET && name != LinuxSocket.SO_RCVTIMEO && name != LinuxSocket.SO_SNDTIMEO));

        public static long SetOption(RemoteSocket socket, int level, int name, byte* value, int length)
        {
            if (Step != null) Step();
            long result = socket.Local.SetOption(level, name, value, length); // TCP_CORK's 0 and TCP_NODELAY push what waits
            if (Done != null) Done();
            return result;
        }

        public static long Shutdown(RemoteSocket socket, int how)
        {
            if (Step != null) Step();
            long result = socket.Local.Shutdown(how);
            if (Done != null) Done();
            return result;
        }

        /// <summary>A lent listener's twin (RemoteSocket.LocalListener): POLLIN when it has a connection to accept.</summary>
        public static short PollListener(RemoteSocket listener)
        {
            if (Step != null) Step();
            return listener.LocalListener.Poll();
        }

        /// <summary>poll's bits (POLLIN, POLLOUT, POLLHUP, POLLERR...).</summary>
        public static short Poll(RemoteSocket socket)
        {
            if (Step != null) Step();
            return socket.Local.Poll();
        }
    }
}
