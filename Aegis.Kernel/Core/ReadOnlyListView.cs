// ReadOnlyListView<T>: a read-only window on a List<T> that Core types hand out. foreach over
// it uses List<T>'s struct enumerator, so it neither allocates (the kernel has no garbage
// collector) nor goes through an interface; Count and the indexer are direct calls too.
// It is also an IReadOnlyList<T> for code that wants one (that use boxes it).
// Invariant: made only by Core types, always over a non-null list they own and no longer change.
using System.Collections;
using System.Collections.Generic;

namespace Aegis.Kernel.Core
{
    public readonly struct ReadOnlyListView<T> : IReadOnlyList<T>
    {
        private readonly List<T> _list;

        public ReadOnlyListView(List<T> list)
        {
            _list = list;
        }

        public int Count => _list.Count;

        public T this[int index] => _list[index];

        public List<T>.Enumerator GetEnumerator() => _list.GetEnumerator();

        IEnumerator<T> IEnumerable<T>.GetEnumerator() => _list.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => _list.GetEnumerator();
    }
}
