// LruPolicy: least recently used — the page not asked for for the longest time goes. The
// baseline TwoQueuePolicy is measured against: one full scan larger than the cache replaces
// every page in it, the hot ones included.
namespace Aegis.LibOS.Database
{
    public sealed class LruPolicy : IReplacementPolicy
    {
        private const int Recent = 1;
        private FrameLists _lists;

        public void Attach(int frameCount) => _lists = new FrameLists(frameCount, 1);

        public void Referenced(int frame)
        {
            _lists.Remove(frame);
            _lists.PushHead(Recent, frame);
        }

        public void Loaded(int frame, ulong page) => _lists.PushHead(Recent, frame);

        public int ChooseVictim(IFramePins pins) => _lists.OldestEvictable(Recent, pins);

        public void Evicted(int frame, ulong page) => _lists.Remove(frame);
    }
}
