// The TransactionScheduler's contexts and completions on Aegis: each context is a fiber of
// LibOS.Base (its own 128 KiB stack, switched without a kernel call), and completions are the
// disk's (DiskExtent: collected with BlockComplete, waited for with Wait).
using System;
using Aegis.Abi;

namespace Aegis.LibOS.Database
{
    public sealed class FiberContexts : IExecutionContexts, IDisposable
    {
        private readonly Fiber[] _fibers;

        /// <summary>'count' fibers (at most Fiber.MaximumFibers in the environment); Dispose gives them back.</summary>
        public FiberContexts(int count)
        {
            if (count <= 0 || count > Fiber.MaximumFibers) throw new ArgumentOutOfRangeException(nameof(count));
            _fibers = new Fiber[count];
            for (int i = 0; i < count; i++)
            {
                _fibers[i] = Fiber.Obtain(out Error error);
                if (_fibers[i] != null) continue;
                Dispose();
                throw new InvalidOperationException("no fiber for a transaction: " + Errors.Name(error));
            }
        }

        public int Count => _fibers.Length;

        public void Start(int context, Action body) => _fibers[context].Start(body);

        public bool Resume(int context, out Exception failure)
        {
            Fiber fiber = _fibers[context];
            fiber.Resume();
            failure = fiber.Failure;
            return fiber.Finished;
        }

        public void Yield() => Fiber.Suspend();

        public void Dispose()
        {
            for (int i = 0; i < _fibers.Length; i++)
            {
                if (_fibers[i] == null || !_fibers[i].Finished) continue;
                _fibers[i].Release();
                _fibers[i] = null;
            }
        }
    }

    public sealed class DiskCompletions : IRequestCompletions
    {
        public static readonly DiskCompletions Instance = new DiskCompletions();

        public bool TryTake(ulong tag, out Error status) => DiskExtent.TryTake(tag, out status);
        public bool Collect() => DiskExtent.Collect();
        public void Wait() => SystemCalls.Wait();
    }
}
