namespace LibOS.Unixish
{
    /// <summary>Placeholder identity of the Unix-like libOS; its policies arrive with issue #3.</summary>
    public static class LibraryInfo
    {
        public const string Name = "LibOS.Unixish";
    }
}
