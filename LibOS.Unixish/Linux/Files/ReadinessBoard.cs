// The readiness board (docs/libos-unixish.md, "Sockets"): the end of a process's buffer,
// which the file server keeps current for the sockets the process subscribed (an epoll's look
// subscribes each of its sockets once, VfsProtocol.PollSubscribe). An epoll_wait then reads its
// sockets' readiness here instead of asking the server, and a recv on a non-blocking stream that
// the board shows empty answers EAGAIN without a call: two address-space switches saved each.
// Pure logic; compiles under the real .NET.
//
// Layout (offsets from VfsProtocol.Board): Waiting (a long) at 0; slot i (0 .. Slots-1) at
// SlotsStart + 16 i: a long (the server descriptor + 1 in bits 0..31, 0: empty; revents in
// 32..47; Flags in 48..63), then the socket's change count (Socket.Changes) as a long.
//
// Invariants and the protocol:
// - Only the server writes slots; it writes a subscribed slot after every call on that socket
//   and whenever the socket is on its provider's changed list (Socket.WakeWatchers), so a slot
//   is never older than the server's last turn. A slot whose key is not the process's server
//   descriptor + 1 is not the process's (never subscribed, a fork's fresh board, a re-registered
//   buffer the server cleared): the process asks the server instead, and subscribes again.
// - No lost wakeup: a process about to sleep sets Waiting, then looks at the board; the server,
//   after writing a slot of a board whose Waiting is set, clears it and sends one wake message
//   (which stays pending in the kernel if the process has not reached its Wait yet).
// - Aegis runs environments on one CPU, so a reader never sees a half-written slot.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public static unsafe class ReadinessBoard
    {
        public const int Waiting = VfsProtocol.Board;
        public const int SlotsStart = VfsProtocol.Board + 64;
        public const int SlotBytes = 16;
        /// <summary>Slots a board holds (from SlotsStart to the buffer's last 64 bytes: 224).</summary>
        public const int Slots = (VfsProtocol.Generation - SlotsStart) / SlotBytes;

        /// <summary>Flags: a recv now would find nothing (no bytes, no end, no error) and wait, or
        /// answer EAGAIN (Socket.ReceiveWouldWait).</summary>
        public const ushort Empty = 1;
        /// <summary>Flags: the process's description of the socket is O_NONBLOCK.</summary>
        public const ushort NonBlocking = 2;
        /// <summary>Flags: a send of VfsProtocol.HoldBytes now would be taken whole
        /// (Socket.SendTakes): a corked stream may hold that much in the process (VfsClient's held sends).</summary>
        public const ushort Roomy = 4;

        private static long* Slot(byte* buffer, int slot) => (long*)(buffer + SlotsStart + slot * SlotBytes);

        public static void Write(byte* buffer, int slot, int serverFd, short revents, ushort flags, long changes)
        {
            long* at = Slot(buffer, slot);
            at[1] = changes;
            at[0] = (long)((ulong)(uint)(serverFd + 1) | (ulong)(ushort)revents << 32 | (ulong)flags << 48);
        }

        /// <summary>Slot's readiness when it is serverFd's; false when it holds another's or none.</summary>
        public static bool Read(byte* buffer, int slot, int serverFd, out short revents, out ushort flags, out long changes)
        {
            long* at = Slot(buffer, slot);
            ulong word = (ulong)at[0];
            revents = (short)(ushort)(word >> 32);
            flags = (ushort)(word >> 48);
            changes = at[1];
            return (uint)word == (uint)(serverFd + 1);
        }

        /// <summary>Empties every slot (the server, when it takes a process's buffer anew).</summary>
        public static void Clear(byte* buffer)
        {
            for (int i = 0; i < Slots; i++) { Slot(buffer, i)[0] = 0; Slot(buffer, i)[1] = 0; }
            *(long*)(buffer + Waiting) = 0;
        }

        /// <summary>The process, before its last look ahead of a sleep: wake me at the next slot written.</summary>
        public static void Arm(byte* buffer) => *(long*)(buffer + Waiting) = 1;

        public static void Disarm(byte* buffer) => *(long*)(buffer + Waiting) = 0;

        /// <summary>The server, after writing a slot: whether the process waits for it (and it no longer does).</summary>
        public static bool TakeWaiting(byte* buffer)
        {
            if (*(long*)(buffer + Waiting) == 0) return false;
            *(long*)(buffer + Waiting) = 0;
            return true;
        }

        /// <summary>Whether a receive with these MSG_ flags on a socket whose slot has these flags answers EAGAIN now.</summary>
        public static bool ReceiveIsAgain(ushort flags, int messageFlags) =>
            (flags & Empty) != 0 && ((flags & NonBlocking) != 0 || (messageFlags & LinuxSocket.MSG_DONTWAIT) != 0);
    }
}
