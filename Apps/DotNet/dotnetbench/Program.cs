// dotnetbench [WORKLOAD...]: the .NET runtime's workloads of issue #10, exactly as
// ../shared/docs/workloads.md ("Runtime: allocation and exceptions") defines them: single-threaded,
// in this order, each timed from just before its loop to just after it with the process's
// monotonic clock (Stopwatch), no warm-up. Under QEMU's -icount shift=0 one instruction is one
// nanosecond of the guest's clock, so nanoseconds per operation are instructions per operation.
// Prints one line a workload: BENCH dotnet_NAME COUNT PER-OPERATION, then GC dotnet_NAME gen0 N
// gen1 N gen2 N: the collections its timed loop made.
using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;

internal static class Program
{
    private sealed class TreeNode
    {
        public readonly TreeNode Left, Right;

        public TreeNode(TreeNode left, TreeNode right) { Left = left; Right = right; }
    }

    private sealed class Small // 32 bytes with its header: two longs (B is never written, as workloads.md has it)
    {
#pragma warning disable CS0649
        public long A, B;
#pragma warning restore CS0649
    }

    private sealed class BenchException : Exception { }

    private static long s_caught, s_finallies;
    private static int s_gen0, s_gen1, s_gen2;

    /// <summary>Notes the collections so far (just before a timed loop starts).</summary>
    private static void CountCollections()
    {
        s_gen0 = GC.CollectionCount(0); s_gen1 = GC.CollectionCount(1); s_gen2 = GC.CollectionCount(2);
    }

    /// <summary>The BENCH line, then "GC dotnet_NAME gen0 N gen1 N gen2 N": the collections the timed
    /// loop made (the runtime's own decisions, which differ when the OS tells it different facts).</summary>
    private static void Report(string name, long count, long startTicks, long endTicks)
    {
        double nanoseconds = (endTicks - startTicks) * 1e9 / Stopwatch.Frequency;
        int gen0 = GC.CollectionCount(0) - s_gen0, gen1 = GC.CollectionCount(1) - s_gen1, gen2 = GC.CollectionCount(2) - s_gen2;
        Console.WriteLine("BENCH dotnet_" + name + " " + count + " " + (nanoseconds / count).ToString("F1"));
        Console.WriteLine("GC dotnet_" + name + " gen0 " + gen0 + " gen1 " + gen1 + " gen2 " + gen2);
    }

    private static TreeNode BottomUpTree(int depth) =>
        depth > 0 ? new TreeNode(BottomUpTree(depth - 1), BottomUpTree(depth - 1)) : new TreeNode(null, null);

    private static int Check(TreeNode node) => node.Left == null ? 1 : 1 + Check(node.Left) + Check(node.Right);

    /// <summary>maxDepth 16, minDepth 4: a stretch tree of depth 17, the long-lived tree of depth 16,
    /// 2^(16-d+4) trees of each depth d = 4, 6, ..., 16, the long-lived tree checked last. Per node
    /// (14,985,902 nodes).</summary>
    private static bool BinaryTrees()
    {
        const int MinDepth = 4, MaxDepth = 16;
        CountCollections();
        long start = Stopwatch.GetTimestamp();
        long nodes = Check(BottomUpTree(MaxDepth + 1));
        TreeNode longLived = BottomUpTree(MaxDepth);
        for (int depth = MinDepth; depth <= MaxDepth; depth += 2)
        {
            int iterations = 1 << (MaxDepth - depth + MinDepth);
            for (int i = 0; i < iterations; i++) nodes += Check(BottomUpTree(depth));
        }
        nodes += Check(longLived);
        long end = Stopwatch.GetTimestamp();
        Report("binarytrees", nodes, start, end);
        return nodes == 14_985_902;
    }

    /// <summary>10 million 32-byte objects, the last 10,000 kept alive. Per allocation.</summary>
    private static bool AllocSmall()
    {
        const int Count = 10_000_000, Alive = 10_000;
        var live = new Small[Alive];
        int w = 0;
        CountCollections();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < Count; i++)
        {
            var o = new Small();
            o.A = i;
            live[w] = o;
            w = (w + 1) % Alive;
        }
        long end = Stopwatch.GetTimestamp();
        Report("alloc_small", Count, start, end);
        return live[Alive - 1].A == Count - 1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Thrower() => throw new BenchException();

    /// <summary>100,000 throws caught one frame up. Per throw.</summary>
    private static bool ThrowCatch()
    {
        const int Count = 100_000;
        s_caught = 0;
        CountCollections();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < Count; i++)
        {
            try { Thrower(); }
            catch (BenchException) { s_caught++; }
        }
        long end = Stopwatch.GetTimestamp();
        Report("throw_catch", Count, start, end);
        return s_caught == Count;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Deep(int level)
    {
        try
        {
            if (level == 1) throw new BenchException();
            Deep(level - 1);
        }
        finally { s_finallies++; }
    }

    /// <summary>10,000 throws through 10 frames with a finally each. Per throw.</summary>
    private static bool ThrowDeep()
    {
        const int Count = 10_000;
        s_caught = 0;
        s_finallies = 0;
        CountCollections();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < Count; i++)
        {
            try { Deep(10); }
            catch (BenchException) { s_caught++; }
        }
        long end = Stopwatch.GetTimestamp();
        Report("throw_deep", Count, start, end);
        return s_caught == Count && s_finallies == 10L * Count;
    }

    private static int Main(string[] args)
    {
        string[] all = { "binarytrees", "alloc_small", "throw_catch", "throw_deep" };
        bool ok = true;
        foreach (string name in args.Length > 0 ? args : all)
        {
            switch (name)
            {
                case "binarytrees": ok &= BinaryTrees(); break;
                case "alloc_small": ok &= AllocSmall(); break;
                case "throw_catch": ok &= ThrowCatch(); break;
                case "throw_deep": ok &= ThrowDeep(); break;
                default: Console.Error.WriteLine("dotnetbench: unknown workload " + name); return 2;
            }
        }
        if (!ok) Console.Error.WriteLine("dotnetbench: a workload computed a wrong result");
        return ok ? 0 : 1;
    }
}
