// A process's children as its libOS tracks them (pure logic, host-tested): one entry per child
// environment, from fork until the parent has waited for it and the environment has ended.
//   Running    alive, not yet ended
//   Zombie     ended (its wait status known), not yet waited for: wait4 reports it once
//   Lingering  waited for, but its environment is still alive: a Linux process that exited while
//              its own children ran stays alive (in Wait) until they end, because Aegis ends
//              every descendant of an ended environment (AncestorEnded); its parent must not
//              EnvironmentDestroy it (that would end them too), so the slot is freed when it ends.
// A running child may also carry a report (Report: a stop's or a continue's wait status, the
// latest one only, as on Linux) for wait4 with WUNTRACED/WCONTINUED; reporting takes it.
// Selection follows wait4's pid argument: > 0 that child, -1 any, 0 the caller's process group,
// < -1 the group -pid. Invariant: at most one entry per pid; a Free entry has Pid 0.
namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public enum ChildState { Free = 0, Running, Zombie, Lingering }

    public struct ChildEntry
    {
        public ulong Pid;
        /// <summary>The capability slot over the child's environment.</summary>
        public ulong Slot;
        /// <summary>Its process group, as far as this parent knows (setpgid by either side).</summary>
        public ulong Group;
        /// <summary>Its session (the parent's until the child calls setsid and says so).</summary>
        public ulong Session;
        public ChildState State;
        /// <summary>The wait status (Zombie).</summary>
        public int Status;
        /// <summary>A stop or continue not yet reported (WaitStatus.Stopped(signal) or
        /// WaitStatus.Continued; 0: none). Running children only.</summary>
        public int Report;
    }

    public sealed class ChildTable
    {
        /// <summary>A process holds at most this many children (its 64 capability slots bound it anyway).</summary>
        public const int Capacity = 60;

        private readonly ChildEntry[] _entries = new ChildEntry[Capacity];

        public ChildEntry this[int index] => _entries[index];

        public void Clear()
        {
            for (int i = 0; i < Capacity; i++) _entries[i] = default;
        }

        /// <summary>Records a new running child; its index, or -1 when the table is full.</summary>
        public int Add(ulong pid, ulong slot, ulong group, ulong session = 0)
        {
            if (pid == 0 || IndexOf(pid) >= 0) return -1;
            for (int i = 0; i < Capacity; i++)
            {
                if (_entries[i].State != ChildState.Free) continue;
                _entries[i] = new ChildEntry { Pid = pid, Slot = slot, Group = group, Session = session, State = ChildState.Running };
                return i;
            }
            return -1;
        }

        public bool IsFull
        {
            get
            {
                for (int i = 0; i < Capacity; i++) if (_entries[i].State == ChildState.Free) return false;
                return true;
            }
        }

        public int IndexOf(ulong pid)
        {
            if (pid == 0) return -1;
            for (int i = 0; i < Capacity; i++)
                if (_entries[i].State != ChildState.Free && _entries[i].Pid == pid) return i;
            return -1;
        }

        /// <summary>A running child ended with the wait status: it becomes a zombie. A lingering
        /// one (already waited for) is forgotten. False when pid is not a child here.</summary>
        public bool MarkEnded(ulong pid, int status)
        {
            int index = IndexOf(pid);
            if (index < 0) return false;
            if (_entries[index].State == ChildState.Running)
            {
                _entries[index].State = ChildState.Zombie;
                _entries[index].Status = status;
            }
            else if (_entries[index].State == ChildState.Lingering)
            {
                _entries[index] = default;
            }
            return true;
        }

        /// <summary>A running child stopped (WaitStatus.Stopped) or continued (WaitStatus.Continued):
        /// the report replaces any earlier one. False when pid is not a running child here.</summary>
        public bool SetReport(ulong pid, int status)
        {
            int index = IndexOf(pid);
            if (index < 0 || _entries[index].State != ChildState.Running) return false;
            _entries[index].Report = status;
            return true;
        }

        /// <summary>The first running child that matches and has a report wait4 asked for
        /// (stopped: WUNTRACED, continued: WCONTINUED), or -1.</summary>
        public int FindReport(long selector, ulong ownGroup, bool stopped, bool continued)
        {
            for (int i = 0; i < Capacity; i++)
            {
                if (_entries[i].State != ChildState.Running || _entries[i].Report == 0 || !Matches(_entries[i], selector, ownGroup)) continue;
                bool isContinue = _entries[i].Report == WaitStatus.Continued;
                if (isContinue ? continued : stopped) return i;
            }
            return -1;
        }

        /// <summary>The report at index was given to wait4.</summary>
        public void TakeReport(int index) => _entries[index].Report = 0;

        public bool SetGroup(ulong pid, ulong group)
        {
            int index = IndexOf(pid);
            if (index < 0) return false;
            _entries[index].Group = group;
            return true;
        }

        public bool SetSession(ulong pid, ulong session)
        {
            int index = IndexOf(pid);
            if (index < 0) return false;
            _entries[index].Session = session;
            return true;
        }

        /// <summary>Whether a child not yet ended is in the group.</summary>
        public bool AnyInGroup(ulong group)
        {
            for (int i = 0; i < Capacity; i++)
                if (_entries[i].State != ChildState.Free && _entries[i].State != ChildState.Zombie && _entries[i].Group == group) return true;
            return false;
        }

        /// <summary>The selector for process group 1 (waitid's P_PGID 1; -1 means any child).</summary>
        public const long GroupOne = long.MinValue;

        /// <summary>Whether the entry answers wait4's pid selector for a caller in group ownGroup.</summary>
        public static bool Matches(in ChildEntry entry, long selector, ulong ownGroup)
        {
            if (selector == GroupOne) return entry.Group == 1;
            if (selector > 0) return entry.Pid == (ulong)selector;
            if (selector == -1) return true;
            if (selector == 0) return entry.Group == ownGroup;
            return entry.Group == (ulong)(-selector);
        }

        /// <summary>Whether some child not yet waited for matches (else wait4 is -ECHILD).</summary>
        public bool AnyWaitable(long selector, ulong ownGroup)
        {
            for (int i = 0; i < Capacity; i++)
            {
                ChildState state = _entries[i].State;
                if ((state == ChildState.Running || state == ChildState.Zombie) && Matches(_entries[i], selector, ownGroup)) return true;
            }
            return false;
        }

        /// <summary>The first zombie that matches, or -1.</summary>
        public int FindZombie(long selector, ulong ownGroup)
        {
            for (int i = 0; i < Capacity; i++)
                if (_entries[i].State == ChildState.Zombie && Matches(_entries[i], selector, ownGroup)) return i;
            return -1;
        }

        /// <summary>The zombie at index was waited for: freed, or Lingering while its environment
        /// is still alive.</summary>
        public void Reap(int index, bool environmentAlive)
        {
            if (environmentAlive) _entries[index].State = ChildState.Lingering;
            else _entries[index] = default;
        }

        /// <summary>Frees the entry (its environment is gone, the status reported or not wanted).</summary>
        public void Remove(int index) => _entries[index] = default;

        /// <summary>Children whose environments are still alive (Running or Lingering).</summary>
        public int CountAlive()
        {
            int count = 0;
            for (int i = 0; i < Capacity; i++)
                if (_entries[i].State == ChildState.Running || _entries[i].State == ChildState.Lingering) count++;
            return count;
        }
    }
}
