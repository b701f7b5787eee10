// The collector's shared tests (kernel test=runtime and the ring-3 app runtime-suite): what is
// reachable survives collections intact, what is not is reclaimed and its memory reused, the heap
// stays under its limit and gives pages back. Each test names the behaviour it checks.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Internal.Runtime;

namespace Aegis.RuntimeTests
{
    public static unsafe partial class SharedSuite
    {
        static partial void AddCollectorTests(List<SharedTest> tests)
        {
            tests.Add(new SharedTest("collection-count-increments", &CollectionCountIncrements));
            tests.Add(new SharedTest("allocate-ten-times-the-heap-limit-and-finish", &AllocateTenTimesTheHeapLimitAndFinish));
            tests.Add(new SharedTest("cyclic-graphs-survive-many-collections", &CyclicGraphsSurviveManyCollections));
            tests.Add(new SharedTest("big-reference-array-intact-while-garbage-churns", &BigReferenceArrayIntactWhileGarbageChurns));
            tests.Add(new SharedTest("statics-survive-collection", &StaticsSurviveCollection));
            tests.Add(new SharedTest("register-only-object-survives", &RegisterOnlyObjectSurvives));
            tests.Add(new SharedTest("interior-pointer-keeps-object-alive", &InteriorPointerKeepsObjectAlive));
            tests.Add(new SharedTest("frozen-string-literals-untouched", &FrozenStringLiteralsUntouched));
            tests.Add(new SharedTest("weak-reference-cleared-when-unreachable", &WeakReferenceClearedWhenUnreachable));
            tests.Add(new SharedTest("reused-memory-comes-back-zeroed", &ReusedMemoryComesBackZeroed));
            tests.Add(new SharedTest("heap-returns-pages-after-release", &HeapReturnsPagesAfterRelease));
            tests.Add(new SharedTest("total-memory-falls-when-garbage-is-collected", &TotalMemoryFallsWhenGarbageIsCollected));
        }

        private sealed class GraphNode
        {
            public int Value;
            public GraphNode Next;
            public GraphNode Across;
            public string Label;
        }

        private sealed class Pair
        {
            public long A, B;
        }

        private static List<string> s_survivor;
        private static GraphNode s_staticNode;

        /// <summary>Allocates about 'bytes' of short-lived objects and arrays of mixed sizes.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long Churn(long bytes)
        {
            long sum = 0;
            long done = 0;
            int round = 0;
            while (done < bytes)
            {
                Pair pair = new Pair { A = round, B = -round };
                byte[] small = new byte[(round % 200) + 1];
                small[0] = (byte)round;
                sum += pair.A + pair.B + small[0] + small.Length;
                done += 32 + 24 + small.Length;
                if ((round & 63) == 0)
                {
                    int[] bigger = new int[2000 + round % 3000];
                    bigger[bigger.Length - 1] = round;
                    sum += bigger[bigger.Length - 1];
                    done += bigger.Length * 4 + 24;
                }
                round++;
            }
            return sum;
        }

        private static string CollectionCountIncrements()
        {
            int before = GC.CollectionCount(0);
            GC.Collect();
            int afterOne = GC.CollectionCount(0);
            GC.Collect();
            GC.Collect();
            return Check.Equal(before + 1, afterOne, "collections after one GC.Collect()")
                ?? Check.Equal(before + 3, GC.CollectionCount(0), "collections after three")
                ?? Check.True(RuntimeHost.HeapCollections == (ulong)GC.CollectionCount(0), "RuntimeHost.HeapCollections agrees with GC.CollectionCount");
        }

        private static string AllocateTenTimesTheHeapLimitAndFinish()
        {
            GC.Collect();
            nuint oldLimit = RuntimeHost.HeapLimit;
            nuint limit = RuntimeHost.HeapBytesReserved + 6 * 1024 * 1024;
            RuntimeHost.SetHeapLimit(limit);
            int collectionsBefore = GC.CollectionCount(0);
            // Keep a window of recent objects alive, as a real program would.
            object[] window = new object[256];
            long allocated = 0;
            long target = 10 * (long)limit;
            int i = 0;
            nuint highest = 0;
            while (allocated < target)
            {
                byte[] block = new byte[1000 + (i % 7) * 500];
                block[block.Length - 1] = (byte)i;
                window[i & 255] = block;
                allocated += block.Length + 24;
                if ((i & 1023) == 0 && RuntimeHost.HeapBytesReserved > highest)
                    highest = RuntimeHost.HeapBytesReserved;
                i++;
            }
            RuntimeHost.SetHeapLimit(oldLimit);
            for (int k = 0; k < 256; k++)
            {
                int index = i - 256 + k;
                byte[] kept = (byte[])window[index & 255];
                if (kept.Length != 1000 + (index % 7) * 500 || kept[kept.Length - 1] != (byte)index)
                    return "a kept array changed: index " + index.ToString();
            }
            return Check.True(highest <= limit, "the heap stayed under its limit (held " + ((ulong)highest).ToString() + " bytes, limit " + ((ulong)limit).ToString() + ")")
                ?? Check.True(GC.CollectionCount(0) - collectionsBefore >= 10, "at least ten collections while allocating ten times the limit (saw " + (GC.CollectionCount(0) - collectionsBefore).ToString() + ")");
        }

        private static GraphNode BuildRing(int count)
        {
            GraphNode first = new GraphNode { Value = 0, Label = "n0" };
            GraphNode previous = first;
            GraphNode[] all = new GraphNode[count];
            all[0] = first;
            for (int i = 1; i < count; i++)
            {
                GraphNode node = new GraphNode { Value = i, Label = "n" + i.ToString() };
                previous.Next = node;
                previous = node;
                all[i] = node;
            }
            previous.Next = first; // the ring: a cycle through every node
            for (int i = 0; i < count; i++)
                all[i].Across = all[(i * 7 + 3) % count]; // chords: more cycles
            return first;
        }

        private static string CheckRing(GraphNode first, int count)
        {
            GraphNode node = first;
            for (int i = 0; i < count; i++)
            {
                if (node.Value != i) return "node " + i.ToString() + " holds " + node.Value.ToString();
                if (node.Label != "n" + i.ToString()) return "node " + i.ToString() + " has label " + (node.Label ?? "null");
                if (node.Across == null || node.Across.Value != (i * 7 + 3) % count) return "node " + i.ToString() + " lost its chord";
                node = node.Next;
            }
            return node == first ? null : "the ring does not close";
        }

        private static string CyclicGraphsSurviveManyCollections()
        {
            const int Count = 3000;
            GraphNode ring = BuildRing(Count);
            GraphNode garbageRing = BuildRing(500); // a cycle nobody references: must not keep itself alive
            garbageRing = null;
            int before = GC.CollectionCount(0);
            for (int round = 0; round < 12; round++)
            {
                Churn(512 * 1024);
                GC.Collect();
                string problem = CheckRing(ring, Count);
                if (problem != null) return "after collection " + (round + 1).ToString() + ": " + problem;
            }
            return Check.True(GC.CollectionCount(0) - before >= 12, "twelve collections ran");
        }

        private static string BigReferenceArrayIntactWhileGarbageChurns()
        {
            const int Count = 20000; // 160 KB of references: a large object
            object[] array = new object[Count];
            for (int i = 0; i < Count; i++)
                array[i] = (i % 3) switch { 0 => (object)i.ToString(), 1 => new Pair { A = i, B = i * 2 }, _ => new int[] { i, -i } };
            int before = GC.CollectionCount(0);
            // A collection comes every RuntimeHost.HeapCollectionBudget bytes: churn past that, in rounds.
            long budget = (long)RuntimeHost.HeapCollectionBudget;
            for (int round = 0; round < 6; round++)
            {
                Churn(budget / 2 + 1024 * 1024);
                for (int i = 0; i < Count; i++)
                {
                    object item = array[i];
                    bool good = (i % 3) switch
                    {
                        0 => item is string s && s == i.ToString(),
                        1 => item is Pair p && p.A == i && p.B == i * 2,
                        _ => item is int[] a && a.Length == 2 && a[0] == i && a[1] == -i,
                    };
                    if (!good) return "element " + i.ToString() + " changed in round " + round.ToString();
                }
            }
            return Check.True(GC.CollectionCount(0) - before >= 2, "the churn triggered collections by itself (saw " + (GC.CollectionCount(0) - before).ToString() + ")");
        }

        private static string StaticsSurviveCollection()
        {
            s_survivor = new List<string>();
            for (int i = 0; i < 500; i++)
                s_survivor.Add("static-" + i.ToString());
            s_staticNode = BuildRing(200);
            for (int round = 0; round < 4; round++)
            {
                Churn(1024 * 1024);
                GC.Collect();
            }
            for (int i = 0; i < 500; i++)
                if (s_survivor[i] != "static-" + i.ToString())
                    return "static list element " + i.ToString() + " changed";
            string problem = CheckRing(s_staticNode, 200);
            s_survivor = null;
            s_staticNode = null;
            return problem;
        }

        /// <summary>The object lives only in this frame's registers and spill slots across calls
        /// that collect: nothing else references it.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string HoldAcrossCollections()
        {
            Pair held = new Pair { A = 0x1234_5678_9ABC, B = -77 };
            Pair other = new Pair { A = 5, B = 6 };
            long sum = 0;
            for (int round = 0; round < 4; round++)
            {
                sum += Churn(256 * 1024) & 1;
                GC.Collect();
                sum += held.A + other.B;
            }
            return Check.Equal(0x1234_5678_9ABC, held.A, "held.A") ?? Check.Equal(-77, held.B, "held.B")
                ?? Check.Equal(5, other.A, "other.A") ?? Check.True(sum != 0, "sum");
        }

        private static string RegisterOnlyObjectSurvives() => HoldAcrossCollections();

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ref int MiddleOfNewArray()
        {
            int[] array = new int[64];
            for (int i = 0; i < array.Length; i++)
                array[i] = 1000 + i;
            return ref array[20];
        }

        private static string InteriorPointerKeepsObjectAlive()
        {
            ref int middle = ref MiddleOfNewArray(); // only this interior pointer refers to the array
            Span<int> span = new int[] { 7, 8, 9, 10 }.AsSpan(1, 2);
            for (int round = 0; round < 4; round++)
            {
                // Garbage of the same size class: a freed array would be handed out again.
                for (int k = 0; k < 20000; k++)
                {
                    int[] same = new int[64];
                    same[20] = -1;
                    int[] small = new int[4];
                    small[1] = -1;
                }
                GC.Collect();
            }
            for (int i = -20; i < 44; i++)
                if (Unsafe.Add(ref middle, i) != 1000 + 20 + i)
                    return "element " + (20 + i).ToString() + " of the array behind the interior pointer changed";
            return Check.Equal(8, span[0], "span[0]") ?? Check.Equal(9, span[1], "span[1]");
        }

        private static string FrozenStringLiteralsUntouched()
        {
            string literal = "a literal in the image";
            string before = literal;
            for (int round = 0; round < 3; round++)
            {
                Churn(512 * 1024);
                GC.Collect();
            }
            string again = "a literal in the image";
            const string expected = "a literal in the image";
            if (literal.Length != expected.Length) return "length changed";
            for (int i = 0; i < expected.Length; i++)
                if (literal[i] != expected[i]) return "character " + i.ToString() + " changed";
            return Check.True(ReferenceEquals(before, again), "the literal is still the one object in the image");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static WeakReference<Pair>[] MakeWeakReferences(int count, Pair[] strong)
        {
            WeakReference<Pair>[] weak = new WeakReference<Pair>[count];
            for (int i = 0; i < count; i++)
            {
                Pair target = new Pair { A = i, B = i };
                weak[i] = new WeakReference<Pair>(target);
                if (i < strong.Length)
                    strong[i] = target;
            }
            return weak;
        }

        private static string WeakReferenceClearedWhenUnreachable()
        {
            const int Count = 200;
            Pair[] strong = new Pair[10];
            WeakReference<Pair>[] weak = MakeWeakReferences(Count, strong);
            Churn(64 * 1024);
            ScrubStack();
            GC.Collect();
            int cleared = 0;
            for (int i = 0; i < Count; i++)
            {
                bool alive = weak[i].TryGetTarget(out Pair target);
                if (i < strong.Length)
                {
                    if (!alive || !ReferenceEquals(target, strong[i]) || target.A != i)
                        return "weak reference " + i.ToString() + " lost a target that is still referenced";
                }
                else if (!alive)
                    cleared++;
                else if (target.A != i)
                    return "weak reference " + i.ToString() + " points at a different object";
            }
            // A conservative stack scan may keep one or two stale addresses alive; most must go.
            return Check.True(cleared >= Count - strong.Length - 2, "weak references to unreachable objects were cleared (" + cleared.ToString() + " of " + (Count - strong.Length).ToString() + ")");
        }

        private static string ReusedMemoryComesBackZeroed()
        {
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < 30000; i++)
                {
                    Pair dirty = new Pair { A = -1, B = -1 };
                    long[] dirtyArray = new long[6];
                    for (int k = 0; k < dirtyArray.Length; k++) dirtyArray[k] = -1;
                }
                GC.Collect();
                for (int i = 0; i < 30000; i++)
                {
                    Pair fresh = new Pair();
                    if (fresh.A != 0 || fresh.B != 0) return "a new object's fields were not zero";
                    long[] freshArray = new long[6];
                    for (int k = 0; k < freshArray.Length; k++)
                        if (freshArray[k] != 0) return "a new array's element " + k.ToString() + " was not zero";
                }
            }
            return null;
        }

        /// <summary>Overwrites the dead stack below the caller, so stale addresses left there by
        /// returned frames cannot keep garbage alive through the conservative stack scan.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int ScrubStack()
        {
            byte* area = stackalloc byte[8192];
            for (int i = 0; i < 8192; i++)
                area[i] = 0;
            return area[100];
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static nuint HoldAndMeasure(long bytes)
        {
            List<byte[]> held = new List<byte[]>();
            for (long i = 0; i < bytes / (64 * 1024); i++)
                held.Add(new byte[64 * 1024 - 64]); // large objects
            List<Pair> pairs = new List<Pair>();
            for (int i = 0; i < 100000; i++)
                pairs.Add(new Pair { A = i }); // and 3 MiB of small ones
            nuint peak = RuntimeHost.HeapBytesReserved;
            GC.KeepAlive(held);
            GC.KeepAlive(pairs);
            return peak;
        }

        private static string HeapReturnsPagesAfterRelease()
        {
            // After a collection the heap keeps its budget (HeapCollectionBudget) free for what comes
            // next and gives the rest of its free blocks back. Hold 24 MiB more than it can keep, drop it.
            GC.Collect();
            long live = GC.GetTotalMemory(false);
            long keep = (long)RuntimeHost.HeapCollectionBudget;
            nuint before = RuntimeHost.HeapBytesReserved;
            nuint peak = HoldAndMeasure(keep + live + 24 * 1024 * 1024);
            ScrubStack();
            GC.Collect();
            nuint after = RuntimeHost.HeapBytesReserved;
            return Check.True(peak >= before + 24 * 1024 * 1024, "the heap grew by at least 24 MiB (from " + ((ulong)before).ToString() + " to " + ((ulong)peak).ToString() + ")")
                ?? Check.True(after <= before + 4 * 1024 * 1024, "the heap went back to (within 4 MiB of) its size before the hold (before " + ((ulong)before).ToString() + ", peak " + ((ulong)peak).ToString() + ", after " + ((ulong)after).ToString() + ")");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long HoldTwoMegabytes()
        {
            List<int[]> held = new List<int[]>();
            for (int i = 0; i < 2000; i++)
                held.Add(new int[256]);
            long during = GC.GetTotalMemory(true);
            GC.KeepAlive(held);
            return during;
        }

        private static string TotalMemoryFallsWhenGarbageIsCollected()
        {
            long before = GC.GetTotalMemory(true);
            long during = HoldTwoMegabytes();
            ScrubStack();
            long after = GC.GetTotalMemory(true);
            return Check.True(during >= before + 2000 * 1024, "GetTotalMemory counts the 2 MB held (" + before.ToString() + " -> " + during.ToString() + ")")
                ?? Check.True(after <= during - 2000 * 1024, "GetTotalMemory falls once they are garbage (" + during.ToString() + " -> " + after.ToString() + ")");
        }
    }
}
