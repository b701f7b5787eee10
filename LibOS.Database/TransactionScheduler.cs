// TransactionScheduler: the database libOS's own scheduling policy — run-to-completion
// transactions (issue #11; the thread policy issue #10 left to LibOS.Database). Each transaction
// runs on an execution context of its own (a fiber on Aegis: FiberContexts) and keeps the CPU
// until it ends or must wait for the disk: never preempted, it takes no latches and its steps
// see a tree nobody else is changing. When it waits for a page, another transaction runs, so
// many page reads are in flight at once (the disk's queue fills) while the CPU stays busy.
//
// The policy (docs/database.md, "Transactions and their scheduling"):
//   - transactions start in the order they were submitted, at most Contexts at a time;
//   - reads (Submit) run together; a write (SubmitWrite) runs alone: it starts when nothing else
//     runs, and nothing starts while it runs (its commit included). So a read sees only
//     committed states, and every step of a write sees the tree as the write left it;
//   - the next to run is the oldest ready one (FIFO); a transaction that finds a page in transit
//     (another one's read of it) steps aside until some request completes;
//   - when none is ready the environment waits in the kernel until a request completes.
// A write's body is followed by KvStore.Commit (durable when the write ends). A transaction that
// throws ends there; the others go on, and Run throws the first failure at the end. A pointer
// into a page (Cursor.NextRecord's) is valid only until the transaction's next call on the store:
// another transaction may run during that call (the cache's rule, PageCache).
//
// Invariants: _running is the context running now (-1: the scheduler's own); a context is Free,
// Ready (in _ready), Waiting (for _waitTag), Stepped aside (in _aside) or Running; _active counts
// the contexts not Free; _writing is true exactly while a write holds a context.
using System;
using System.Collections.Generic;
using Aegis.Abi;

namespace Aegis.LibOS.Database
{
    /// <summary>Where transactions run: numbered contexts of control, each with its own stack
    /// (fibers on Aegis; threads handing over to each other in the host tests).</summary>
    public interface IExecutionContexts
    {
        int Count { get; }
        /// <summary>Gives the free context its body; it runs at the next Resume.</summary>
        void Start(int context, Action body);
        /// <summary>From the scheduler: runs the context until it yields or its body ends; true
        /// when it ended ('failure': what the body threw, or null).</summary>
        bool Resume(int context, out Exception failure);
        /// <summary>From the running context: back to the scheduler (returns at the next Resume).</summary>
        void Yield();
    }

    /// <summary>The completions of requests a page store started (DiskExtent's on Aegis).</summary>
    public interface IRequestCompletions
    {
        /// <summary>The status of request 'tag' if it has been collected (it is then forgotten).</summary>
        bool TryTake(ulong tag, out Error status);
        /// <summary>Collects finished requests; true when any came.</summary>
        bool Collect();
        /// <summary>Waits until a request may have finished.</summary>
        void Wait();
    }

    /// <summary>What a page store calls to wait for a request it started.</summary>
    public interface IRequestWaiter
    {
        Error WaitFor(ulong tag);
    }

    /// <summary>A page store whose waits can be handed to a scheduler (BlockStore on a disk).</summary>
    public interface IAsyncPageStore : IPageStore
    {
        /// <summary>Who waits for the store's requests (null: the store waits itself).</summary>
        IRequestWaiter Waiter { get; set; }
    }

    /// <summary>What the cache calls when a page it needs is in transit for another transaction.</summary>
    public interface ITransactionYield
    {
        void StepAside();
    }

    public sealed class TransactionScheduler : IRequestWaiter, ITransactionYield
    {
        private enum State : byte { Free, Ready, Waiting, Aside, Running }

        private struct Submitted
        {
            public Action<KvStore> Body;
            public bool Writes;
        }

        private readonly KvStore _store;
        private readonly IExecutionContexts _contexts;
        private readonly IRequestCompletions _completions;
        private readonly Queue<Submitted> _submitted = new Queue<Submitted>();
        private readonly Queue<int> _ready = new Queue<int>();
        private readonly List<int> _aside = new List<int>();
        private readonly State[] _state;
        private readonly bool[] _writes;
        private readonly ulong[] _waitTag;
        private readonly Error[] _waitStatus;
        private int _running = -1;
        private int _active;
        private int _waiting;
        private bool _writing;
        private Exception _failure;

        public TransactionScheduler(KvStore store, IExecutionContexts contexts, IRequestCompletions completions)
        {
            _store = store ?? throw new ArgumentNullException(nameof(store));
            _contexts = contexts ?? throw new ArgumentNullException(nameof(contexts));
            _completions = completions ?? throw new ArgumentNullException(nameof(completions));
            if (contexts.Count <= 0) throw new ArgumentOutOfRangeException(nameof(contexts));
            _state = new State[contexts.Count];
            _writes = new bool[contexts.Count];
            _waitTag = new ulong[contexts.Count];
            _waitStatus = new Error[contexts.Count];
        }

        /// <summary>How many transactions may be in progress at once.</summary>
        public int Contexts => _contexts.Count;
        /// <summary>Transactions that ended (with or without a failure).</summary>
        public ulong Completed { get; private set; }
        /// <summary>Times a context was resumed.</summary>
        public ulong Switches { get; private set; }
        /// <summary>Times the scheduler waited in the kernel because no transaction could run.</summary>
        public ulong KernelWaits { get; private set; }
        /// <summary>The most transactions waiting for the disk at once (requests in flight).</summary>
        public int MostWaiting { get; private set; }
        /// <summary>Times a transaction stepped aside for a page in transit.</summary>
        public ulong StepsAside { get; private set; }

        /// <summary>A read-only transaction: runs alongside other reads.</summary>
        public void Submit(Action<KvStore> body) => Enqueue(body, writes: false);

        /// <summary>A transaction that puts: runs alone, then commits (durable when it ends).</summary>
        public void SubmitWrite(Action<KvStore> body) => Enqueue(body, writes: true);

        private void Enqueue(Action<KvStore> body, bool writes)
        {
            if (body == null) throw new ArgumentNullException(nameof(body));
            _submitted.Enqueue(new Submitted { Body = body, Writes = writes });
        }

        /// <summary>Runs every submitted transaction (and those they submit) to its end; then
        /// throws the first failure, if any.</summary>
        public void Run()
        {
            if (_running >= 0 || _active != 0) throw new InvalidOperationException("the scheduler is already running");
            IAsyncPageStore async = _store.Store as IAsyncPageStore;
            IRequestWaiter previousWaiter = async?.Waiter;
            if (async != null) async.Waiter = this;
            _store.Cache.AttachScheduler(this);
            _failure = null;
            try
            {
                while (_submitted.Count > 0 || _active > 0)
                {
                    Admit();
                    if (_ready.Count > 0)
                    {
                        RunContext(_ready.Dequeue());
                        continue;
                    }
                    if (_waiting == 0)
                    {
                        // Only transactions that stepped aside: nothing they wait for is in
                        // flight any more (a failed read gave its frame back), so let them look again.
                        if (_aside.Count == 0) throw new InvalidOperationException("the transaction scheduler has nothing to run and nothing to wait for");
                        ReleaseAside();
                        continue;
                    }
                    if (!TakeCompletions())
                    {
                        if (!_completions.Collect())
                        {
                            KernelWaits++;
                            _completions.Wait();
                        }
                        TakeCompletions();
                    }
                }
            }
            finally
            {
                _store.Cache.DetachScheduler();
                if (async != null) async.Waiter = previousWaiter;
            }
            if (_failure != null)
            {
                Exception failure = _failure;
                _failure = null;
                throw failure;
            }
        }

        /// <summary>Starts submitted transactions in order while the policy lets them.</summary>
        private void Admit()
        {
            while (_submitted.Count > 0 && !_writing)
            {
                Submitted next = _submitted.Peek();
                if (next.Writes && _active > 0) return;
                int context = FreeContext();
                if (context < 0) return;
                _submitted.Dequeue();
                Action<KvStore> body = next.Body;
                KvStore store = _store;
                if (next.Writes)
                {
                    _writing = true;
                    _contexts.Start(context, () => { body(store); store.Commit(); });
                }
                else _contexts.Start(context, () => body(store));
                _writes[context] = next.Writes;
                _state[context] = State.Ready;
                _active++;
                _ready.Enqueue(context);
            }
        }

        private int FreeContext()
        {
            for (int c = 0; c < _state.Length; c++)
                if (_state[c] == State.Free) return c;
            return -1;
        }

        private void RunContext(int context)
        {
            _state[context] = State.Running;
            _running = context;
            Switches++;
            bool ended = _contexts.Resume(context, out Exception failure);
            _running = -1;
            if (!ended) return; // it waits (WaitFor) or stepped aside (StepAside): its state says which
            _state[context] = State.Free;
            _active--;
            Completed++;
            if (_writes[context]) _writing = false;
            if (failure != null && _failure == null) _failure = failure;
        }

        /// <summary>Moves waiting transactions whose requests completed to the ready queue, then
        /// those that stepped aside (they wait for some other transaction's request).</summary>
        private bool TakeCompletions()
        {
            bool any = false;
            for (int c = 0; c < _state.Length; c++)
            {
                if (_state[c] != State.Waiting || !_completions.TryTake(_waitTag[c], out Error status)) continue;
                _waitStatus[c] = status;
                _state[c] = State.Ready;
                _waiting--;
                _ready.Enqueue(c);
                any = true;
            }
            if (any) ReleaseAside();
            return any;
        }

        private void ReleaseAside()
        {
            for (int i = 0; i < _aside.Count; i++)
            {
                _state[_aside[i]] = State.Ready;
                _ready.Enqueue(_aside[i]);
            }
            _aside.Clear();
        }

        /// <summary>IRequestWaiter: inside a transaction, lets others run until 'tag' completes;
        /// outside one, waits in the kernel.</summary>
        public Error WaitFor(ulong tag)
        {
            int context = _running;
            if (context < 0)
            {
                while (true)
                {
                    if (_completions.TryTake(tag, out Error status)) return status;
                    if (!_completions.Collect()) _completions.Wait();
                }
            }
            _waitTag[context] = tag;
            _state[context] = State.Waiting;
            if (++_waiting > MostWaiting) MostWaiting = _waiting;
            _contexts.Yield();
            return _waitStatus[context];
        }

        /// <summary>ITransactionYield: the running transaction waits until some request completes.</summary>
        public void StepAside()
        {
            int context = _running;
            if (context < 0) throw new InvalidOperationException("a page is in transit with no transaction running");
            StepsAside++;
            _state[context] = State.Aside;
            _aside.Add(context);
            _contexts.Yield();
        }
    }
}
