// dotnetbench [WORKLOAD...]: the .NET runtime's workloads of issue #10, each after a warm-up,
// timed with the process's monotonic clock (Stopwatch). Under QEMU's -icount shift=0 one
// instruction is one nanosecond of the guest's clock, so nanoseconds per operation are
// instructions per operation. Prints one line a workload: BENCH dotnet_NAME COUNT PER-OPERATION.
using System;
using System.Diagnostics;

internal static class Program
{
    private sealed class Node
    {
        public Node Left, Right;
    }

    private sealed class Small // 32 bytes with its header: two longs
    {
        public long A, B;
    }

    private static Node Tree(int depth) => depth == 0 ? new Node() : new Node { Left = Tree(depth - 1), Right = Tree(depth - 1) };

    private static int Count(Node node) => node.Left == null ? 1 : 1 + Count(node.Left) + Count(node.Right);

    private static long s_sink;

    private static int s_gen0, s_gen1, s_gen2;

    /// <summary>Notes the collections so far (called just before a timed loop starts).</summary>
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

    private static void BinaryTrees()
    {
        const int Depth = 16, Rounds = 4;
        s_sink += Count(Tree(Depth));
        CountCollections();
        long start = Stopwatch.GetTimestamp();
        long nodes = 0;
        for (int i = 0; i < Rounds; i++) nodes += Count(Tree(Depth));
        long end = Stopwatch.GetTimestamp();
        s_sink += nodes;
        Report("binarytrees", nodes, start, end);
    }

    private static void AllocSmall()
    {
        const int Count = 10_000_000, Alive = 10_000;
        var ring = new Small[Alive];
        for (int i = 0; i < Alive * 10; i++) ring[i % Alive] = new Small { A = i, B = -i };
        CountCollections();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < Count; i++) ring[i % Alive] = new Small { A = i, B = -i };
        long end = Stopwatch.GetTimestamp();
        s_sink += ring[0].A;
        Report("alloc_small", Count, start, end);
    }

    private static void Thrower() => throw new InvalidOperationException("bench");

    private static void ThrowCatch()
    {
        const int Count = 2_000;
        for (int i = 0; i < 100; i++) { try { Thrower(); } catch (InvalidOperationException) { s_sink++; } }
        CountCollections();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < Count; i++) { try { Thrower(); } catch (InvalidOperationException) { s_sink++; } }
        long end = Stopwatch.GetTimestamp();
        Report("throw_catch", Count, start, end);
    }

    private static void Deep(int frames)
    {
        try
        {
            if (frames == 0) throw new InvalidOperationException("deep");
            Deep(frames - 1);
        }
        finally { s_sink++; }
    }

    private static void ThrowDeep()
    {
        const int Count = 500;
        for (int i = 0; i < 50; i++) { try { Deep(9); } catch (InvalidOperationException) { s_sink++; } }
        CountCollections();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < Count; i++) { try { Deep(9); } catch (InvalidOperationException) { s_sink++; } }
        long end = Stopwatch.GetTimestamp();
        Report("throw_deep", Count, start, end);
    }

    private static int Main(string[] args)
    {
        string[] all = { "binarytrees", "alloc_small", "throw_catch", "throw_deep" };
        foreach (string name in args.Length > 0 ? args : all)
        {
            switch (name)
            {
                case "binarytrees": BinaryTrees(); break;
                case "alloc_small": AllocSmall(); break;
                case "throw_catch": ThrowCatch(); break;
                case "throw_deep": ThrowDeep(); break;
                default: Console.Error.WriteLine("dotnetbench: unknown workload " + name); return 2;
            }
        }
        return s_sink == 0 ? 1 : 0;
    }
}
