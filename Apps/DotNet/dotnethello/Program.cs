// dotnethello: prints "Hello, World!". With --started-at NANOSECONDS (the monotonic clock read
// just before the execve that started this process: linuxbench's dotnet_startup) it prints instead
// "startup NANOSECONDS": the time from that execve to the first line of Main, read on the same
// clock (CLOCK_MONOTONIC, Stopwatch's clock on Linux). Under QEMU's -icount shift=0 nanoseconds
// are instructions.
using System;
using System.Diagnostics;

internal static class Program
{
    private static int Main(string[] args)
    {
        long now = Stopwatch.GetTimestamp(); // the first line of Main: what the start-up figure ends at
        if (args.Length == 2 && args[0] == "--started-at")
        {
            long started = long.Parse(args[1]);
            long nanoseconds = (long)((now - started) * (1e9 / Stopwatch.Frequency));
            Console.WriteLine("startup " + nanoseconds);
            return 0;
        }
        Console.WriteLine("Hello, World!");
        return 0;
    }
}
