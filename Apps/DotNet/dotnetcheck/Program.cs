// dotnetcheck: the real .NET runtime (NativeAOT, linux-x64) on Aegis. Every line it prints is a
// fact that must be the same on any Linux: no times, no addresses, no core counts.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

internal static class Program
{
    private static int s_failures;

    private static void Check(bool ok, string what)
    {
        Console.WriteLine(what + ": " + (ok ? "ok" : "FAILED"));
        if (!ok) s_failures++;
    }

    private sealed class Node
    {
        public Node Left, Right;
    }

    private static Node Tree(int depth) => depth == 0 ? new Node() : new Node { Left = Tree(depth - 1), Right = Tree(depth - 1) };

    private static int Count(Node node) => node.Left == null ? 1 : 1 + Count(node.Left) + Count(node.Right);

    private static int Recurse(int depth) => depth == 0 ? 0 : 1 + Recurse(depth - 1);

    private static bool Filter(Exception e, string text) => e.Message == text;

    private static int ExhaustMemory()
    {
        var kept = new List<byte[]>();
        try
        {
            while (true) kept.Add(new byte[1 << 20]);
        }
        catch (OutOfMemoryException)
        {
            int megabytes = kept.Count;
            kept = null;
            GC.Collect();
            Console.WriteLine("OutOfMemoryException caught: " + (megabytes > 16 ? "after more than 16 MiB" : "too early (" + megabytes + " MiB)"));
            Console.WriteLine("after the collection: " + new string('x', 10));
            return 0;
        }
    }

    private static async Task<int> DelayedAsync(int value)
    {
        await Task.Delay(20);
        await Task.Yield();
        return value * 2;
    }

    private static int Main(string[] args)
    {
        // Bad input, one case per argument (LinuxDotNetTests): an unhandled exception ends the
        // process with .NET's report and SIGABRT; exhausting the heap (its hard limit: 64 MiB, the
        // project's GCHeapHardLimit) is an OutOfMemoryException the app catches.
        if (args.Length == 1 && args[0] == "throw") throw new InvalidOperationException("dotnetcheck throws on purpose");
        if (args.Length == 1 && args[0] == "oom") return ExhaustMemory();
        Console.WriteLine("== dotnetcheck");

        // Exceptions: try/catch/finally, a filter, a null dereference as NullReferenceException.
        var order = new List<string>();
        try
        {
            try { throw new InvalidOperationException("inner"); }
            finally { order.Add("finally"); }
        }
        catch (InvalidOperationException e) when (Filter(e, "inner")) { order.Add("filtered " + e.Message); }
        Check(string.Join(",", order) == "finally,filtered inner", "try/catch/finally with a filter");
        string nothing = Environment.GetEnvironmentVariable("AEGIS_NO_SUCH_VARIABLE");
        bool caught = false;
        try { Console.WriteLine(nothing.Length); }
        catch (NullReferenceException) { caught = true; }
        Check(caught, "a null dereference is a NullReferenceException");
        Check(Recurse(20000) == 20000, "deep recursion (20,000 frames)");

        // The GC under pressure: binary trees to depth 16, collections counted.
        int before = GC.CollectionCount(0);
        long nodes = 0;
        for (int i = 0; i < 8; i++) nodes += Count(Tree(16));
        Check(nodes == 8L * 131071, "binary trees to depth 16");
        // More garbage until a collection came (the first budget depends on the machine's caches),
        // in bounded memory: each tree is garbage once counted.
        for (int i = 0; i < 400 && GC.CollectionCount(0) == before; i++) nodes += Count(Tree(14));
        Check(GC.CollectionCount(0) > before, "the GC collected");

        // Threads, tasks, Parallel.For, locks, Interlocked.
        int total = 0;
        var threads = new Thread[4];
        for (int t = 0; t < 4; t++)
        {
            threads[t] = new Thread(() => { for (int i = 0; i < 1000; i++) Interlocked.Increment(ref total); });
            threads[t].Start();
        }
        foreach (Thread thread in threads) thread.Join();
        Check(total == 4000, "four threads and Interlocked");
        var gate = new object();
        long locked = 0;
        Task[] tasks = Enumerable.Range(0, 4).Select(n => Task.Run(() => { for (int i = 0; i < 500; i++) lock (gate) locked += n; })).ToArray();
        Task.WaitAll(tasks);
        Check(locked == 500 * (0 + 1 + 2 + 3), "Task.Run and lock");
        long parallel = 0;
        Parallel.For(0, 1000, i => Interlocked.Add(ref parallel, i));
        Check(parallel == 499500, "Parallel.For");
        var watch = Stopwatch.StartNew();
        int awaited = DelayedAsync(21).GetAwaiter().GetResult();
        watch.Stop();
        Check(awaited == 42 && watch.ElapsedMilliseconds >= 15, "async/await with Task.Delay, Stopwatch");
        bool signalled = false;
        var monitorThread = new Thread(() => { lock (gate) { signalled = true; Monitor.Pulse(gate); } });
        lock (gate)
        {
            monitorThread.Start();
            while (!signalled) Monitor.Wait(gate);
        }
        monitorThread.Join();
        Check(signalled, "Monitor.Wait and Pulse");

        // Collections, LINQ, formatting and parsing.
        var dictionary = new Dictionary<string, int> { ["one"] = 1, ["two"] = 2, ["three"] = 3 };
        var set = new HashSet<int>(Enumerable.Range(0, 100).Select(i => i % 10));
        var queue = new Queue<string>(new[] { "a", "b", "c" });
        queue.Dequeue();
        Console.WriteLine("collections: " + dictionary["two"] + " " + set.Count + " " + string.Join("", queue));
        Console.WriteLine("linq: " + string.Join(",", Enumerable.Range(1, 20).Where(i => i % 3 == 0).Select(i => i * i).OrderByDescending(i => i).Take(3)));
        Console.WriteLine(string.Format("format: {0:F3} {1:E2} {2,6:N0} {3:X8}", Math.PI, 12345.678, 1234567, 48879));
        Console.WriteLine("double: " + (0.1 + 0.2).ToString("R") + " " + 1e-7.ToString() + " " + (1.0 / 3).ToString());
        Console.WriteLine("parse: " + (int.Parse("12345") + 1) + " " + double.Parse("2.5e3") + " sqrt " + Math.Sqrt(2).ToString("F10"));
        Check(DateTime.Now.Year >= 2025 && DateTime.UtcNow > new DateTime(2025, 1, 1), "DateTime.Now is a real date");
        Check(Environment.ProcessorCount >= 1, "Environment.ProcessorCount");

        // Files.
        string path = Path.Combine(Path.GetTempPath(), "dotnetcheck-" + Environment.ProcessId + ".txt");
        File.WriteAllText(path, "written by .NET\nsecond line\n");
        string back = File.ReadAllText(path);
        File.Delete(path);
        Check(back == "written by .NET\nsecond line\n" && !File.Exists(path), "File.WriteAllText and ReadAllText in /tmp");

        // The terminal: a line typed (or piped) in.
        string line = Console.ReadLine();
        Console.WriteLine("read: " + (line ?? "(end of input)"));

        Console.WriteLine("failures: " + s_failures);
        return s_failures == 0 ? 0 : 1;
    }
}
