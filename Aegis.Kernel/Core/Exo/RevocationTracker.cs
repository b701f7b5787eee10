// RevocationTracker: the kernel's bookkeeping for visible revocation. The kernel asks an
// environment (by an upcall) to free a number of frames by a deadline tick. Each frame the
// environment frees counts off what it owes; paying it all in time is polite compliance.
// If the deadline comes first the request is overdue and the kernel runs the abort protocol:
// it takes what is still owed by force (unmapping, recording the frames in the environment's
// repossession vector) and reports it with CompleteAbort. The tracker only counts; the kernel
// does the unmapping.
//
//   Idle --Request--> Requested --frees reach 0 before the deadline--> (Satisfied) --> Idle
//                        |
//                        +--deadline reached (CollectOverdue)--> Overdue --CompleteAbort--> Idle
//                                                                  |  ^
//                                                                  +--+ Repossessed (part of what is owed, one tick's share)
//
// Invariants:
//   - at most one request per environment is open (Requested or Overdue), and it owes >= 1 frame;
//   - a request is overdue iff now >= its deadline while frames are still owed; the deadline
//     was after the tick the request was made;
//   - records are kept per EnvironmentTable slot together with the id they belong to, so a
//     stale id never reads or changes the record of the slot's next environment;
//   - Pending == the number of open requests, and the earliest deadline kept is exactly the
//     earliest among them (ulong.MaxValue when none), so HasOverdue is exact and O(1).
using System;
using System.Collections.Generic;
using Aegis.Abi;

namespace Aegis.Kernel.Core.Exo
{
    public sealed class RevocationTracker
    {
        private readonly Record[] _records = new Record[EnvironmentTable.Capacity];
        private ulong _earliestDeadline = ulong.MaxValue; // the earliest deadline of an open request

        /// <summary>Open requests (Requested or Overdue).</summary>
        public int Pending { get; private set; }

        /// <summary>Asks envId to free frameCount frames by deadlineTick. InvalidArgument for envId 0,
        /// frameCount 0 or a deadline not after nowTick; Busy while a request is open.</summary>
        public Error Request(ulong envId, ulong frameCount, ulong deadlineTick, ulong nowTick)
        {
            if (envId == 0 || frameCount == 0 || deadlineTick <= nowTick) return Error.InvalidArgument;
            ref Record record = ref RecordFor(envId);
            if (record.State != RevocationState.Idle) return Error.Busy;
            record.State = RevocationState.Requested;
            record.Owed = frameCount;
            record.Deadline = deadlineTick;
            Pending++;
            if (deadlineTick < _earliestDeadline) _earliestDeadline = deadlineTick;
            return Error.None;
        }

        /// <summary>envId freed one frame. Answers Satisfied when that paid the last owed frame of an
        /// open request in time (the record is Idle again), Requested or Overdue while frames are
        /// still owed, Idle when nothing was asked (or an overdue request got paid before the abort).</summary>
        public RevocationState OnFrameFreed(ulong envId)
        {
            int slot = SlotOf(envId);
            if (slot < 0 || _records[slot].Id != envId) return RevocationState.Idle;
            ref Record record = ref _records[slot];
            if (record.State == RevocationState.Idle) return RevocationState.Idle;
            record.Owed--;
            if (record.Owed != 0) return record.State;
            bool polite = record.State == RevocationState.Requested;
            Close(ref record);
            if (!polite) return RevocationState.Idle;
            record.SatisfiedCount++;
            return RevocationState.Satisfied;
        }

        /// <summary>True when some open request has reached its deadline by nowTick (O(1): fit for
        /// every timer tick).</summary>
        public bool HasOverdue(ulong nowTick) => Pending != 0 && nowTick >= _earliestDeadline;

        /// <summary>Marks every request whose deadline is at or before nowTick Overdue and writes the
        /// ids of all Overdue environments (earlier ones not yet completed included) to destination.
        /// Returns how many it wrote (a destination of EnvironmentTable.Capacity always fits).</summary>
        public int CollectOverdue(ulong nowTick, Span<ulong> destination)
        {
            if (!HasOverdue(nowTick)) return 0;
            int written = 0;
            for (int slot = 0; slot < _records.Length; slot++)
            {
                ref Record record = ref _records[slot];
                if (record.State == RevocationState.Idle || nowTick < record.Deadline) continue;
                record.State = RevocationState.Overdue;
                if (written < destination.Length) destination[written++] = record.Id;
            }
            return written;
        }

        /// <summary>The environments whose requests are overdue at nowTick (see CollectOverdue;
        /// allocates: host tests only).</summary>
        public List<ulong> Overdue(ulong nowTick)
        {
            List<ulong> overdue = new List<ulong>();
            if (!HasOverdue(nowTick)) return overdue;
            ulong[] ids = new ulong[EnvironmentTable.Capacity];
            int count = CollectOverdue(nowTick, ids);
            for (int i = 0; i < count; i++) overdue.Add(ids[i]);
            return overdue;
        }

        /// <summary>The abort protocol took framesRepossessed more frames from envId (one tick's
        /// share: it takes what is owed over several ticks). True when that paid everything owed:
        /// the request is closed. False while frames are still owed, and (nothing changed) when
        /// envId has no overdue request.</summary>
        public bool Repossessed(ulong envId, ulong framesRepossessed)
        {
            int slot = SlotOf(envId);
            if (slot < 0 || _records[slot].Id != envId || _records[slot].State != RevocationState.Overdue) return false;
            ref Record record = ref _records[slot];
            record.TotalRepossessed += framesRepossessed;
            record.Owed = framesRepossessed >= record.Owed ? 0 : record.Owed - framesRepossessed;
            if (record.Owed != 0) return false;
            Close(ref record);
            return true;
        }

        /// <summary>The abort protocol took framesRepossessed frames from envId: the overdue request is
        /// closed. False (nothing changed) when envId has no overdue request.</summary>
        public bool CompleteAbort(ulong envId, ulong framesRepossessed)
        {
            int slot = SlotOf(envId);
            if (slot < 0 || _records[slot].Id != envId || _records[slot].State != RevocationState.Overdue) return false;
            ref Record record = ref _records[slot];
            record.TotalRepossessed += framesRepossessed;
            Close(ref record);
            return true;
        }

        /// <summary>envId ended: its request (if any) and its counters go.</summary>
        public void Forget(ulong envId)
        {
            int slot = SlotOf(envId);
            if (slot < 0 || _records[slot].Id != envId) return;
            bool open = _records[slot].State != RevocationState.Idle;
            _records[slot] = default;
            if (open) ClosedOne();
        }

        public RevocationState StateOf(ulong envId) => Find(envId).State;

        /// <summary>Frames envId still owes (EnvironmentPage.RevocationPending).</summary>
        public ulong Owed(ulong envId) => Find(envId).Owed;

        /// <summary>The open request's deadline tick, 0 when none (EnvironmentPage.RevocationDeadline).</summary>
        public ulong DeadlineOf(ulong envId) => Find(envId).Deadline;

        /// <summary>Frames the abort protocol has taken from envId in all (EnvironmentPage.RepossessedCount).</summary>
        public ulong TotalRepossessed(ulong envId) => Find(envId).TotalRepossessed;

        /// <summary>Requests envId paid in full before their deadlines.</summary>
        public ulong SatisfiedCount(ulong envId) => Find(envId).SatisfiedCount;

        private void Close(ref Record record)
        {
            record.State = RevocationState.Idle;
            record.Owed = 0;
            record.Deadline = 0;
            ClosedOne();
        }

        /// <summary>A request closed: one fewer open, and the earliest deadline may be later now.
        /// A scan of the records, but only when a request ends, never per tick.</summary>
        private void ClosedOne()
        {
            Pending--;
            ulong earliest = ulong.MaxValue;
            for (int slot = 0; slot < _records.Length; slot++)
                if (_records[slot].State != RevocationState.Idle && _records[slot].Deadline < earliest)
                    earliest = _records[slot].Deadline;
            _earliestDeadline = earliest;
        }

        /// <summary>envId's record, a fresh one when the slot held another (ended) environment's.</summary>
        private ref Record RecordFor(ulong envId)
        {
            ref Record record = ref _records[SlotOf(envId)];
            if (record.Id != envId)
            {
                bool open = record.State != RevocationState.Idle;
                record = default;
                record.Id = envId;
                if (open) ClosedOne();
            }
            return ref record;
        }

        private Record Find(ulong envId)
        {
            int slot = SlotOf(envId);
            return slot >= 0 && _records[slot].Id == envId ? _records[slot] : default;
        }

        /// <summary>The record slot for an id, -1 for id 0.</summary>
        private static int SlotOf(ulong envId) => envId == 0 ? -1 : EnvironmentTable.SlotOf(envId);

        private struct Record
        {
            public ulong Id;
            public RevocationState State;
            public ulong Owed;
            public ulong Deadline;
            public ulong TotalRepossessed;
            public ulong SatisfiedCount;
        }
    }
}
