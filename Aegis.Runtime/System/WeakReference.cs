// WeakReference<T>: a reference the collector does not follow. The target is held as a plain
// address (nint: not in the type's GC descriptor); the collector keeps a list of every live
// WeakReference (GcCollector.RegisterWeakReference) and, after marking, clears the target of
// each whose target was not marked. A WeakReference that is itself garbage drops off the list.
// Invariant: _target is the first field (GcCollector clears the word right after the MethodTable).
using System.Runtime.CompilerServices;
using Internal.Runtime;

namespace System
{
    public sealed unsafe class WeakReference<T> where T : class
    {
        private nint _target;

        public WeakReference(T target)
        {
            _target = AddressOf(target);
            GcCollector.RegisterWeakReference(this);
        }

        public WeakReference(T target, bool trackResurrection) : this(target)
        {
            if (trackResurrection)
                throw new NotSupportedException("trackResurrection: there are no finalizers to resurrect objects");
        }

        public bool TryGetTarget(out T target)
        {
            nint address = _target;
            target = address == 0 ? null : Unsafe.As<T>(Unsafe.AsRef<object>(&address));
            return address != 0;
        }

        public void SetTarget(T target) => _target = AddressOf(target);

        private static nint AddressOf(T target)
        {
            object boxed = target;
            return boxed == null ? 0 : *(nint*)Unsafe.AsPointer(ref boxed);
        }
    }
}
