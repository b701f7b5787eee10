// The process list of a tree of Linux processes, in memory every process of the tree maps at the
// same address (Processes/ProcessRegistry.cs shares it; this file is its pure logic, host-tested):
// one fixed-size entry per live or ended-but-unreaped process, so `ps`, `top` and /proc/<pid> in
// any process see every other one, not only itself.
//
// Entry (EntryBytes = 128, little-endian):
//   0  ulong pid (0: the entry is free)      8  ulong parent pid (what getppid answers)
//   16 int process group                      20 int session
//   24 ushort state ('S', 'T' stopped, 'Z' ended, unreaped)
//   26 ushort argument bytes                  28 int sequence (odd while the entry is written)
//   32 long start time (clock ticks since boot, USER_HZ 100)
//   40 comm, 16 bytes (NUL-padded)            56 the arguments, NUL-separated (at most ArgumentCapacity,
//      72 bytes: about what ps shows in an 80-column line; /proc/<pid>/cmdline of another process
//      is cut there, the process's own is whole)
// Ownership: a process claims a free entry for itself (compare-and-swap of the pid word) and is
// the only writer of it while it runs; its parent frees it when it reaps the process (or the
// process itself, when nobody will reap it). Readers copy an entry between two equal, even
// sequence values (a seqlock: the writer may be preempted half-way), retrying a few times.
// Nothing here allocates but Find (it builds a ProcessStatus) and the list given to ListPids.
using System.Collections.Generic;
using System.Threading;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe class ProcessList
    {
        public const int EntryBytes = 128, CommBytes = 16, ArgumentCapacity = EntryBytes - 56;
        private const int PidAt = 0, ParentAt = 8, GroupAt = 16, SessionAt = 20, StateAt = 24, ArgumentBytesAt = 26,
            SequenceAt = 28, StartAt = 32, CommAt = 40, ArgumentsAt = 56, ReadAttempts = 8;

        private readonly byte* _base;
        public readonly int Capacity;

        /// <summary>The list at memory (capacity * EntryBytes bytes, zero when new).</summary>
        public ProcessList(byte* memory, int capacity)
        {
            _base = memory;
            Capacity = capacity;
        }

        private byte* Entry(int index) => _base + (long)index * EntryBytes;

        /// <summary>Takes a free entry for pid (its other fields cleared, state 'S'); -1 when full.</summary>
        public int Claim(ulong pid, ulong parent, long startTicks)
        {
            for (int i = 0; i < Capacity; i++)
            {
                byte* e = Entry(i);
                if (*(ulong*)e != 0 || Interlocked.CompareExchange(ref *(long*)e, (long)pid, 0) != 0) continue;
                Begin(e);
                *(ulong*)(e + ParentAt) = parent;
                *(int*)(e + GroupAt) = 0;
                *(int*)(e + SessionAt) = 0;
                *(ushort*)(e + StateAt) = 'S';
                *(ushort*)(e + ArgumentBytesAt) = 0;
                *(long*)(e + StartAt) = startTicks;
                *(ulong*)(e + CommAt) = 0;
                *(ulong*)(e + CommAt + 8) = 0;
                End(e);
                return i;
            }
            return -1;
        }

        /// <summary>A fork's entry: claims one for pid and copies what the parent's entry at
        /// parentIndex shows (group, session, comm, arguments); -1 when full.</summary>
        public int ClaimCopy(int parentIndex, ulong pid, ulong parent, long startTicks)
        {
            int index = Claim(pid, parent, startTicks);
            if (index < 0 || parentIndex < 0 || parentIndex >= Capacity) return index;
            byte* from = Entry(parentIndex), to = Entry(index);
            Begin(to);
            *(int*)(to + GroupAt) = *(int*)(from + GroupAt);
            *(int*)(to + SessionAt) = *(int*)(from + SessionAt);
            int length = *(ushort*)(from + ArgumentBytesAt);
            if (length > ArgumentCapacity) length = ArgumentCapacity;
            // comm and the arguments' bytes in whole words (the entry's end is a word boundary).
            ulong* source = (ulong*)(from + CommAt), target = (ulong*)(to + CommAt);
            for (int w = 0, words = (CommBytes + length + 7) / 8; w < words; w++) target[w] = source[w];
            *(ushort*)(to + ArgumentBytesAt) = (ushort)length;
            End(to);
            return index;
        }

        /// <summary>The name and arguments (an exec, prctl(PR_SET_NAME)): comm at most 15 bytes, the
        /// arguments NUL-separated up to ArgumentCapacity (characters above 255 become '?').</summary>
        public void SetProgram(int index, string name, string[] arguments)
        {
            if (index < 0 || index >= Capacity) return;
            byte* e = Entry(index);
            Begin(e);
            for (int b = 0; b < CommBytes; b++) e[CommAt + b] = b < name.Length && b < CommBytes - 1 ? Byte(name[b]) : (byte)0;
            int at = 0;
            for (int a = 0; arguments != null && a < arguments.Length && at < ArgumentCapacity; a++)
            {
                string argument = arguments[a] ?? "";
                for (int c = 0; c < argument.Length && at < ArgumentCapacity; c++) e[ArgumentsAt + at++] = Byte(argument[c]);
                if (at < ArgumentCapacity) e[ArgumentsAt + at++] = 0;
            }
            *(ushort*)(e + ArgumentBytesAt) = (ushort)at;
            End(e);
        }

        public void SetGroup(int index, int group, int session)
        {
            if (index < 0 || index >= Capacity) return;
            byte* e = Entry(index);
            Begin(e);
            *(int*)(e + GroupAt) = group;
            *(int*)(e + SessionAt) = session;
            End(e);
        }

        public void SetParent(int index, ulong parent)
        {
            if (index < 0 || index >= Capacity) return;
            byte* e = Entry(index);
            Begin(e);
            *(ulong*)(e + ParentAt) = parent;
            End(e);
        }

        public void SetState(int index, char state)
        {
            if (index < 0 || index >= Capacity) return;
            byte* e = Entry(index);
            Begin(e);
            *(ushort*)(e + StateAt) = state;
            End(e);
        }

        /// <summary>The entry of pid, or -1.</summary>
        public int IndexOf(ulong pid)
        {
            if (pid == 0) return -1;
            for (int i = 0; i < Capacity; i++)
                if (Load(Entry(i)) == pid) return i;
            return -1;
        }

        /// <summary>Frees pid's entry (its parent reaped it); false when it has none.</summary>
        public bool Free(ulong pid)
        {
            int index = IndexOf(pid);
            if (index < 0) return false;
            byte* e = Entry(index);
            Begin(e);
            *(ushort*)(e + ArgumentBytesAt) = 0;
            End(e);
            Interlocked.CompareExchange(ref *(long*)e, 0, (long)pid);
            return true;
        }

        /// <summary>Adds the pids listed, in entry order.</summary>
        public void ListPids(List<int> pids)
        {
            for (int i = 0; i < Capacity; i++)
            {
                ulong pid = Load(Entry(i));
                if (pid != 0 && pid <= int.MaxValue) pids.Add((int)pid);
            }
        }

        /// <summary>What /proc shows of pid (a copy taken between two equal even sequence values),
        /// or null when it has no entry or the entry did not hold still.</summary>
        public ProcessStatus Find(int pid)
        {
            int index = IndexOf((ulong)pid);
            if (index < 0) return null;
            byte* e = Entry(index);
            byte* copy = stackalloc byte[EntryBytes];
            for (int attempt = 0; attempt < ReadAttempts; attempt++)
            {
                int before = Interlocked.CompareExchange(ref *(int*)(e + SequenceAt), 0, 0);
                if ((before & 1) != 0) continue;
                for (int b = 0; b < EntryBytes; b++) copy[b] = e[b];
                if (Interlocked.CompareExchange(ref *(int*)(e + SequenceAt), 0, 0) != before) continue;
                if (*(ulong*)copy != (ulong)pid) return null;
                return Decode(copy);
            }
            return null;
        }

        private static ProcessStatus Decode(byte* e)
        {
            var status = new ProcessStatus
            {
                Pid = (int)*(ulong*)(e + PidAt),
                ParentPid = (int)*(ulong*)(e + ParentAt),
                ProcessGroup = *(int*)(e + GroupAt),
                Session = *(int*)(e + SessionAt),
                State = (char)*(ushort*)(e + StateAt),
                StartTicks = *(long*)(e + StartAt),
            };
            int length = 0;
            while (length < CommBytes && e[CommAt + length] != 0) length++;
            status.Name = Text(e + CommAt, length);
            int bytes = *(ushort*)(e + ArgumentBytesAt);
            if (bytes > ArgumentCapacity) bytes = ArgumentCapacity;
            var arguments = new List<string>();
            int start = 0;
            for (int b = 0; b <= bytes; b++)
            {
                if (b < bytes && e[ArgumentsAt + b] != 0) continue;
                if (b > start || b < bytes) arguments.Add(Text(e + ArgumentsAt + start, b - start));
                start = b + 1;
            }
            status.Arguments = arguments.ToArray();
            return status;
        }

        private static string Text(byte* bytes, int length)
        {
            var chars = new char[length];
            for (int i = 0; i < length; i++) chars[i] = (char)bytes[i];
            return new string(chars);
        }

        /// <summary>An entry's pid word: an aligned 8-byte read, whole on x86-64 (a claim or a free
        /// changes it with one locked instruction).</summary>
        private static ulong Load(byte* e) => *(ulong*)e;

        private static byte Byte(char c) => c < 256 ? (byte)c : (byte)'?';

        private static void Begin(byte* e) => Interlocked.Increment(ref *(int*)(e + SequenceAt));
        private static void End(byte* e) => Interlocked.Increment(ref *(int*)(e + SequenceAt));
    }
}
