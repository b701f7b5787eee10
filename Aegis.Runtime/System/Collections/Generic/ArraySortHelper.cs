// The sort behind Array.Sort, List<T>.Sort and Span<T>.Sort: introsort (quicksort with a
// median-of-three pivot, heapsort once the recursion is 2*log2(n) deep, insertion sort for
// partitions of 16 or fewer), so O(n log n) in the worst case, in place, no allocation.
// Like .NET's, it is not stable. Every index stays inside the span even when the comparison is
// inconsistent (the scans are bounded): a bad comparer gives an unspecified order, never a hang
// or an out-of-range access.
namespace System.Collections.Generic
{
    internal static class IntroSort
    {
        private const int InsertionSortThreshold = 16;

        public static void Sort<T>(Span<T> keys, Comparison<T> comparison)
        {
            if (comparison == null) throw new ArgumentNullException(nameof(comparison));
            if (keys.Length < 2) return;
            int log2 = 0;
            for (int n = keys.Length; n > 1; n >>= 1) log2++;
            Sort(keys, 2 * (log2 + 1), comparison);
        }

        private static void Sort<T>(Span<T> keys, int depthLimit, Comparison<T> comparison)
        {
            int size = keys.Length;
            while (size > 1)
            {
                if (size <= InsertionSortThreshold)
                {
                    InsertionSort(keys.Slice(0, size), comparison);
                    return;
                }
                if (depthLimit == 0)
                {
                    HeapSort(keys.Slice(0, size), comparison);
                    return;
                }
                depthLimit--;
                int pivot = Partition(keys.Slice(0, size), comparison);
                // Recurse into the right part, loop on the left one.
                Sort(keys.Slice(pivot + 1, size - pivot - 1), depthLimit, comparison);
                size = pivot;
            }
        }

        private static void SwapIfGreater<T>(Span<T> keys, Comparison<T> comparison, int i, int j)
        {
            if (comparison(keys[i], keys[j]) > 0)
            {
                T temporary = keys[i];
                keys[i] = keys[j];
                keys[j] = temporary;
            }
        }

        private static void Swap<T>(Span<T> keys, int i, int j)
        {
            T temporary = keys[i];
            keys[i] = keys[j];
            keys[j] = temporary;
        }

        /// <summary>Partitions around the median of first, middle and last; returns the pivot's
        /// final index (everything before it compares &lt;= pivot, everything after >= pivot).</summary>
        private static int Partition<T>(Span<T> keys, Comparison<T> comparison)
        {
            int hi = keys.Length - 1;
            int middle = hi >> 1;
            SwapIfGreater(keys, comparison, 0, middle);
            SwapIfGreater(keys, comparison, 0, hi);
            SwapIfGreater(keys, comparison, middle, hi);
            T pivot = keys[middle];
            Swap(keys, middle, hi - 1);
            int left = 0, right = hi - 1;
            while (left < right)
            {
                while (left < hi - 1 && comparison(keys[++left], pivot) < 0) { }
                while (right > 0 && comparison(pivot, keys[--right]) < 0) { }
                if (left >= right) break;
                Swap(keys, left, right);
            }
            if (left != hi - 1) Swap(keys, left, hi - 1);
            return left;
        }

        private static void HeapSort<T>(Span<T> keys, Comparison<T> comparison)
        {
            int n = keys.Length;
            for (int i = n >> 1; i >= 1; i--) SiftDown(keys, i, n, comparison);
            for (int i = n; i > 1; i--)
            {
                Swap(keys, 0, i - 1);
                SiftDown(keys, 1, i - 1, comparison);
            }
        }

        /// <summary>Heap positions are 1-based: node i has children 2i and 2i+1.</summary>
        private static void SiftDown<T>(Span<T> keys, int i, int n, Comparison<T> comparison)
        {
            T d = keys[i - 1];
            while (i <= n >> 1)
            {
                int child = 2 * i;
                if (child < n && comparison(keys[child - 1], keys[child]) < 0) child++;
                if (!(comparison(d, keys[child - 1]) < 0)) break;
                keys[i - 1] = keys[child - 1];
                i = child;
            }
            keys[i - 1] = d;
        }

        private static void InsertionSort<T>(Span<T> keys, Comparison<T> comparison)
        {
            for (int i = 0; i < keys.Length - 1; i++)
            {
                T item = keys[i + 1];
                int j = i;
                while (j >= 0 && comparison(item, keys[j]) < 0)
                {
                    keys[j + 1] = keys[j];
                    j--;
                }
                keys[j + 1] = item;
            }
        }
    }
}
