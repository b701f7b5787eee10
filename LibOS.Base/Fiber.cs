// Fibers: stacks of control that take turns on the environment's CPU, switched by the libOS
// itself (no kernel call: a switch is aegis_fiber_switch in Native/libos.S, about 25
// instructions). The scheduling is the caller's: the model is asymmetric — code on the app's
// main stack Resumes a fiber, which runs until it calls Fiber.Suspend or its body ends, and
// control comes back to the Resume. LibOS.Database runs each transaction on one (its
// run-to-completion scheduler, docs/database.md "Transactions and their scheduling").
//
// What a switch saves: the callee-saved registers, MXCSR and the x87 control word (everything
// else is dead across a call), on the stack being left; its final stack pointer goes into that
// stack's resume word, which is also what the collector reads (RuntimeHost.StackResumePointer):
// a suspended stack is scanned from there up. The runtime's chain of exception dispatches is
// per stack (saved and restored around each switch), so a body may suspend inside a finally.
// [ThreadStatic] fields are shared by all fibers (one thread of the environment).
//
// Invariants: s_current is the running fiber, null on the main stack; Resume is called only on
// the main stack; a fiber's stack (StackPages pages, an unmapped guard page below) is mapped and
// registered with the collector from its creation on, for good — fibers are kept and reused
// (Obtain, Release; at most MaximumFibers in the environment).
using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Abi;
using Internal.Runtime;

namespace Aegis.LibOS
{
    public sealed unsafe class Fiber
    {
        /// <summary>Stack size: 128 KiB.</summary>
        public const int StackPages = 32;
        /// <summary>The collector scans at most 32 stacks; the initial and the upcall stack take two.</summary>
        public const int MaximumFibers = 24;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_fiber_switch")]
        private static extern void Switch(nint* save, nint next);

        private static Fiber[] s_fibers;
        private static int s_count;
        private static Fiber s_current;
        private static nint* s_mainResume;
        private static nint s_mainExceptions;

        private readonly int _index;
        private readonly ulong _stackTop;
        private readonly nint* _resume;
        private nint _exceptions;
        private Action _body;

        /// <summary>The fiber running now (null: the main stack).</summary>
        public static Fiber Current => s_current;

        /// <summary>True once the body has ended (the fiber can then Start another).</summary>
        public bool Finished { get; private set; } = true;

        /// <summary>What the body threw, if it ended that way (null otherwise).</summary>
        public Exception Failure { get; private set; }

        private Fiber(int index, ulong stackTop, nint* resume)
        {
            _index = index;
            _stackTop = stackTop;
            _resume = resume;
        }

        private bool _taken;

        /// <summary>A fiber for the caller: one given back earlier (Release), else a new one (null
        /// when the environment already has MaximumFibers taken, or no memory: 'error' says).</summary>
        public static Fiber Obtain(out Error error)
        {
            error = Error.None;
            for (int i = 0; i < s_count; i++)
                if (!s_fibers[i]._taken && s_fibers[i].Finished)
                {
                    s_fibers[i]._taken = true;
                    return s_fibers[i];
                }
            Fiber fiber = Create(out error);
            if (fiber != null) fiber._taken = true;
            return fiber;
        }

        /// <summary>Gives a finished fiber back for a later Obtain.</summary>
        public void Release()
        {
            if (!Finished) throw new InvalidOperationException("the fiber is still running a body");
            _taken = false;
        }

        private static Fiber Create(out Error error)
        {
            error = Error.None;
            if (s_fibers == null)
            {
                s_fibers = new Fiber[MaximumFibers];
                s_mainResume = RuntimeHost.StackResumePointer(unchecked((nint)UserAddresses.InitialStackTop));
                if (s_mainResume == null) { error = Error.InvalidArgument; return null; }
            }
            if (s_count == MaximumFibers) { error = Error.QuotaExceeded; return null; }
            ulong range = AddressSpace.Reserve(StackPages + 1);
            if (range == 0) { error = Error.NoMemory; return null; }
            ulong bottom = range + UserAddresses.PageSize; // the page below stays unmapped: an overflow faults
            error = Memory.AllocateAndMap(bottom, StackPages, Memory.ReadWrite);
            if (error != Error.None) { AddressSpace.Release(range, StackPages + 1); return null; }
            ulong top = bottom + (ulong)StackPages * UserAddresses.PageSize;
            if (!RuntimeHost.RegisterStack((nint)bottom, (nint)top))
            {
                Memory.UnmapAndFree(bottom, StackPages);
                AddressSpace.Release(range, StackPages + 1);
                error = Error.QuotaExceeded;
                return null;
            }
            Fiber fiber = new Fiber(s_count, top, RuntimeHost.StackResumePointer((nint)top));
            s_fibers[s_count++] = fiber;
            // The first switch to it pops what aegis_fiber_switch pushes and "returns" into
            // aegis_fiber_start: [MXCSR | FCW << 32][R15][R14][R13 = argument][R12 = entry][RBX][RBP][RIP].
            ulong* frame = (ulong*)(top - 16) - 8;
            frame[0] = 0x1F80UL | 0x037FUL << 32;
            frame[1] = 0; frame[2] = 0;
            frame[3] = (ulong)fiber._index;
            frame[4] = (ulong)(delegate* unmanaged<nint, void>)&Entry;
            frame[5] = 0; frame[6] = 0;
            frame[7] = ImageSymbols.FiberStart();
            *fiber._resume = (nint)frame;
            return fiber;
        }

        /// <summary>Gives a finished fiber its next body (it runs at the next Resume).</summary>
        public void Start(Action body)
        {
            if (!Finished) throw new InvalidOperationException("the fiber is still running a body");
            _body = body ?? throw new ArgumentNullException(nameof(body));
            Failure = null;
            Finished = false;
        }

        /// <summary>From the main stack: runs the fiber until it suspends or its body ends.</summary>
        public void Resume()
        {
            if (s_current != null) throw new InvalidOperationException("a fiber can be resumed only from the main stack");
            if (Finished) throw new InvalidOperationException("the fiber has no body to run");
            s_mainExceptions = RuntimeHost.ExceptionDispatchChain;
            RuntimeHost.ExceptionDispatchChain = _exceptions;
            s_current = this;
            Switch(s_mainResume, *_resume);
            // Back on the main stack (the fiber suspended or ended).
            RuntimeHost.ExceptionDispatchChain = s_mainExceptions;
        }

        /// <summary>From a fiber: back to whoever resumed it; returns at its next Resume.</summary>
        public static void Suspend()
        {
            Fiber fiber = s_current ?? throw new InvalidOperationException("Suspend outside a fiber");
            fiber._exceptions = RuntimeHost.ExceptionDispatchChain;
            s_current = null;
            Switch(fiber._resume, *s_mainResume);
        }

        [UnmanagedCallersOnly]
        private static void Entry(nint index)
        {
            Fiber fiber = s_fibers[index];
            while (true)
            {
                try { fiber._body(); }
                catch (Exception e) { fiber.Failure = e; }
                fiber._body = null;
                fiber.Finished = true;
                fiber._exceptions = 0;
                s_current = null;
                Switch(fiber._resume, *s_mainResume);
            }
        }
    }
}
