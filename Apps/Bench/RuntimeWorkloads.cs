// The runtime workloads of ../shared/docs/workloads.md ("Runtime: allocation and exceptions"),
// measured like the primitives: RDTSC around each whole loop (start-up excluded), one
//   BENCH <name> <count> <instructions per operation>
// line each (binarytrees per node, alloc_small per allocation, throw_catch per throw and catch,
// throw_deep per throw through 10 frames with a finally each). The loops are the workloads'
// exact definitions, the same C# as the Linux/.NET 10 NativeAOT reference run; each result is
// checked (node counts, catches, finallies) so a wrong answer is a BENCH-ERROR, not a figure.
// They run in the bench app's own heap: every allocation and collection is the app runtime's;
// after each allocating workload a line
//   GC <workload> collections <n> pause_total <cycles> pause_longest <cycles>
// gives the collections it caused and their cost (the longest pause since the app started,
// which for binarytrees, the first workload, is binarytrees' own).
using System;
using System.Runtime.CompilerServices;
using Aegis.LibOS;
using Internal.Runtime;

namespace Aegis.Apps.Bench
{
    internal static class RuntimeWorkloads
    {
        public const long BinaryTreesNodes = 14_985_902;
        public const int AllocSmallCount = 10_000_000;
        public const int AllocSmallLive = 10_000;
        public const int ThrowCatchCount = 100_000;
        public const int ThrowDeepCount = 10_000;
        public const int ThrowDeepFrames = 10;

        public static void Run()
        {
            BinaryTrees();
            AllocSmall();
            ThrowCatch();
            ThrowDeep();
        }

        /// <summary>The collector's counters at one moment, to report what a workload cost in collections.</summary>
        private struct GcMark
        {
            public ulong Collections, PauseTotal;

            public static GcMark Now()
                => new GcMark { Collections = RuntimeHost.HeapCollections, PauseTotal = RuntimeHost.TotalCollectionTicks };

            public void Report(string workload)
                => Console.WriteLine("GC " + workload + " collections " + (RuntimeHost.HeapCollections - Collections).ToString()
                                     + " pause_total " + (RuntimeHost.TotalCollectionTicks - PauseTotal).ToString()
                                     + " pause_longest " + RuntimeHost.LongestCollectionTicks.ToString());
        }

        // ------------------------------------------------------------------ binarytrees

        private sealed class TreeNode
        {
            public readonly TreeNode Left, Right;
            public TreeNode(TreeNode left, TreeNode right) { Left = left; Right = right; }
        }

        private static TreeNode BottomUpTree(int depth)
            => depth > 0 ? new TreeNode(BottomUpTree(depth - 1), BottomUpTree(depth - 1)) : new TreeNode(null, null);

        private static long Check(TreeNode node)
            => node.Left == null ? 1 : 1 + Check(node.Left) + Check(node.Right);

        private static void BinaryTrees()
        {
            const int maxDepth = 16, minDepth = 4;
            long nodes = 0;
            GcMark mark = GcMark.Now();
            ulong start = Native.Rdtsc();
            nodes += Check(BottomUpTree(maxDepth + 1));
            TreeNode longLived = BottomUpTree(maxDepth);
            for (int depth = minDepth; depth <= maxDepth; depth += 2)
            {
                int iterations = 1 << (maxDepth - depth + minDepth);
                for (int i = 0; i < iterations; i++)
                    nodes += Check(BottomUpTree(depth));
            }
            nodes += Check(longLived);
            ulong end = Native.Rdtsc();
            if (nodes != BinaryTreesNodes)
                Benchmarks.Fail("binarytrees checked " + nodes.ToString() + " nodes, expected " + BinaryTreesNodes.ToString());
            Benchmarks.Report("binarytrees", (ulong)nodes, end - start);
            mark.Report("binarytrees");
        }

        // ------------------------------------------------------------------ alloc_small

        private sealed class Small
        {
            public long A, B;
        }

        private static void AllocSmall()
        {
            Small[] live = new Small[AllocSmallLive];
            int w = 0;
            GcMark mark = GcMark.Now();
            ulong start = Native.Rdtsc();
            for (int i = 0; i < AllocSmallCount; i++)
            {
                Small o = new Small();
                o.A = i;
                live[w] = o;
                w = (w + 1) % AllocSmallLive;
            }
            ulong end = Native.Rdtsc();
            // The live window holds the last 10,000 objects, each with its own index.
            for (int k = 0; k < AllocSmallLive; k++)
            {
                long expected = AllocSmallCount - AllocSmallLive + k;
                if (live[k] == null || live[k].A != expected || live[k].B != 0)
                    Benchmarks.Fail("alloc_small: live[" + k.ToString() + "] does not hold object " + expected.ToString());
            }
            Benchmarks.Report("alloc_small", AllocSmallCount, end - start);
            mark.Report("alloc_small");
        }

        // ------------------------------------------------------------------ throw_catch, throw_deep

        private sealed class BenchException : Exception
        {
        }

        private static int s_caught;
        private static int s_finallies;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Thrower() => throw new BenchException();

        private static void ThrowCatch()
        {
            s_caught = 0;
            ulong start = Native.Rdtsc();
            for (int i = 0; i < ThrowCatchCount; i++)
            {
                try { Thrower(); }
                catch (BenchException) { s_caught++; }
            }
            ulong end = Native.Rdtsc();
            if (s_caught != ThrowCatchCount)
                Benchmarks.Fail("throw_catch caught " + s_caught.ToString() + " of " + ThrowCatchCount.ToString());
            Benchmarks.Report("throw_catch", ThrowCatchCount, end - start);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Deep(int level)
        {
            try
            {
                if (level == 1)
                    throw new BenchException();
                Deep(level - 1);
            }
            finally
            {
                s_finallies++;
            }
        }

        private static void ThrowDeep()
        {
            s_caught = 0;
            s_finallies = 0;
            ulong start = Native.Rdtsc();
            for (int i = 0; i < ThrowDeepCount; i++)
            {
                try { Deep(ThrowDeepFrames); }
                catch (BenchException) { s_caught++; }
            }
            ulong end = Native.Rdtsc();
            if (s_caught != ThrowDeepCount || s_finallies != ThrowDeepCount * ThrowDeepFrames)
                Benchmarks.Fail("throw_deep caught " + s_caught.ToString() + " and ran " + s_finallies.ToString() + " finally blocks, expected "
                                + ThrowDeepCount.ToString() + " and " + (ThrowDeepCount * ThrowDeepFrames).ToString());
            Benchmarks.Report("throw_deep", ThrowDeepCount, end - start);
        }
    }
}
