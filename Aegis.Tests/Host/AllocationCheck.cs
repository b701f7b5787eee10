namespace Aegis.Tests.Host;

/// <summary>How many bytes code allocates on this thread, measured so that .NET's own work cannot
/// fail a check: the least of three rounds. Code that allocates does so every round, while the
/// runtime's tiering may allocate once on the thread in any round (a clean-clone CI on a loaded
/// host saw 6,576 bytes in the one round a test used to measure). Run the round once before, so
/// every method is compiled.</summary>
internal static class AllocationCheck
{
    public static long LeastOfThree(Action round)
    {
        long least = long.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            round();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
