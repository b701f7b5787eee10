// RevocationState: where one environment stands in visible revocation (RevocationTracker).
namespace Aegis.Kernel.Core.Exo
{
    public enum RevocationState
    {
        /// <summary>Nothing asked for.</summary>
        Idle,
        /// <summary>Asked to free some frames by a deadline; some are still owed.</summary>
        Requested,
        /// <summary>Freed every owed frame in time (answered once by OnFrameFreed; the tracker is
        /// Idle again right after).</summary>
        Satisfied,
        /// <summary>The deadline passed with frames still owed: the abort protocol takes them.</summary>
        Overdue,
    }
}
