namespace LibOS.Database
{
    /// <summary>Placeholder identity of the database libOS; its buffer pool and policies arrive with issue #3.</summary>
    public static class LibraryInfo
    {
        public const string Name = "LibOS.Database";
    }
}
