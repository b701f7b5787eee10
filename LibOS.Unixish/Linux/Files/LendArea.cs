// Lent receives (docs/libos-unixish.md, "Lent receives"): the page after a process's buffer
// (VfsProtocol.LendPage), into which the file server copies the bytes waiting on one of the
// process's TCP sockets when it writes that socket's board slot, so the process's recv takes them
// without a call (two address-space switches saved). The bytes stay queued in the server, lent:
// the server drops what the process took, and gets the rest back, at the process's next call or
// the socket's next change. Pure logic; compiles under the real .NET.
//
// Layout: the page holds Areas areas of AreaBytes, each lending one socket's bytes: Key (long:
// the server descriptor + 1 of the socket whose bytes these are; 0: free), Count (int: bytes
// lent), Taken (int: bytes the process took; Closed once the server took them back), Readers
// (int: the process's threads copying out now), the bytes from Data. Eight areas, so nginx's
// sixteen keep-alive connections are mostly answered from them; a request longer than an area
// (Bytes) is lent in part, the rest read by calls.
//
// Invariants and the protocol (one CPU: the server runs only while the process does not, but the
// process may have been stopped anywhere, one of its threads halfway through a take):
// - The server lends only into a free area (Key 0) with no reader, so a reader's bytes never
//   change under it; it writes Count and Taken before Key. A socket is lent in one area at most.
// - A thread takes by raising Readers, checking Key, claiming its bytes with one compare-exchange
//   of Taken, copying, and lowering Readers. A claim is a take: the server counts it even when
//   the copy is still to come.
// - The server takes back by exchanging Taken for Closed (a claim not yet made then fails, and its
//   thread asks the server) and clearing Key; what was taken is dropped from the socket's queue,
//   the rest stays there, not lent. So no byte is read twice and none is lost.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public static unsafe class LendArea
    {
        public const int Key = 0, Count = 8, Taken = 12, Readers = 16, Data = 32;
        public const int Areas = 8, AreaBytes = 4096 / Areas;
        /// <summary>The most bytes one area lends at once.</summary>
        public const int Bytes = AreaBytes - Data;
        /// <summary>Taken once the server took the bytes back: no claim succeeds.</summary>
        public const int Closed = int.MinValue;

        private static ref int Field(byte* area, int offset) => ref *(int*)(area + offset);

        // ---- the process

        /// <summary>The area of the page that lends serverFd's bytes, or null.</summary>
        public static byte* Find(byte* page, int serverFd)
        {
            if (page == null) return null;
            for (int i = 0; i < Areas; i++)
                if (*(long*)(page + i * AreaBytes + Key) == serverFd + 1L) return page + i * AreaBytes;
            return null;
        }

        /// <summary>Lent bytes of server descriptor serverFd not yet taken (0: none).</summary>
        public static int Remaining(byte* page, int serverFd)
        {
            byte* area = Find(page, serverFd);
            if (area == null) return 0;
            int taken = Field(area, Taken), count = Field(area, Count);
            return taken < 0 || taken >= count ? 0 : count - taken;
        }

        /// <summary>recv from the lent bytes of serverFd: how many were copied into destination
        /// (peek: without taking them), or 0 when none are lent (ask the server).</summary>
        public static int Take(byte* page, int serverFd, byte* destination, int length, bool peek)
        {
            byte* area = length <= 0 ? null : Find(page, serverFd);
            if (area == null) return 0;
            System.Threading.Interlocked.Increment(ref Field(area, Readers));
            int n = 0;
            while (*(long*)(area + Key) == serverFd + 1L)
            {
                int taken = Field(area, Taken), count = Field(area, Count);
                if (taken < 0 || taken >= count) break;
                int want = count - taken < length ? count - taken : length;
                if (!peek && System.Threading.Interlocked.CompareExchange(ref Field(area, Taken), taken + want, taken) != taken) continue;
                System.Buffer.MemoryCopy(area + Data + taken, destination, want, want);
                n = want;
                break;
            }
            System.Threading.Interlocked.Decrement(ref Field(area, Readers));
            return n;
        }

        // ---- the server

        /// <summary>Whether bytes may be lent into the area now (nothing lent, no thread reading).</summary>
        public static bool Free(byte* area) =>
            *(long*)(area + Key) == 0 && Field(area, Readers) == 0;

        /// <summary>The area now holds count bytes (already at Data) of serverFd's socket.</summary>
        public static void Lend(byte* area, int serverFd, int count)
        {
            Field(area, Count) = count;
            Field(area, Taken) = 0;
            System.Threading.Interlocked.Exchange(ref *(long*)(area + Key), serverFd + 1L); // (a fence: Count and Taken first)
        }

        /// <summary>Ends the lending of serverFd's bytes in the area: how many of the 'lent' the process
        /// took (0 when the area no longer shows them: a page the server lost, or never lent).</summary>
        public static int TakeBack(byte* area, int serverFd, int lent)
        {
            if (area == null || *(long*)(area + Key) != serverFd + 1L) return 0;
            int taken = System.Threading.Interlocked.Exchange(ref Field(area, Taken), Closed);
            *(long*)(area + Key) = 0;
            return taken < 0 ? 0 : taken > lent ? lent : taken;
        }

        /// <summary>The socket whose bytes the area holds (its server descriptor), or -1.</summary>
        public static int LentFd(byte* area) => area == null || *(long*)(area + Key) <= 0 ? -1 : (int)(*(long*)(area + Key) - 1);

        /// <summary>A free area of the page (nothing lent, no reader), or null.</summary>
        public static byte* FreeArea(byte* page)
        {
            for (int i = 0; i < Areas; i++)
                if (Free(page + i * AreaBytes)) return page + i * AreaBytes;
            return null;
        }

        /// <summary>Whether the process took every lent byte (the server may then take them back and lend anew).</summary>
        public static bool AllTaken(byte* area)
        {
            int taken = Field(area, Taken);
            return taken >= Field(area, Count);
        }
    }
}
