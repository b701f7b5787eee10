// Protection-suite behaviours for kernel memory and quotas: no environment can exhaust what the kernel needs
// (issue #7). Each behaviour is an attack run as its own app; the kernel judges it from what it
// observed itself. Names here, checks below; ProtectionSuite.cs runs them.
using Aegis.Abi;
using Aegis.Kernel.Exo;
using Aegis.Kernel.Hal;
using Internal.Runtime;

namespace Aegis.Kernel.Tests
{
    internal static unsafe partial class ProtectionSuite
    {
        private static readonly string[] s_resourceBehaviours =
        {
            "exhaust-kernel-heap", "frame-hog", "slice-hog", "fork-bomb", "grant-exhaust", "mapping-hog",
        };

        /// <summary>Behaviours too long for every run of the suite: only=NAME runs them (docs/kernel.md).</summary>
        private static readonly string[] s_onRequestBehaviours =
        {
            "syscall-fuzz-long",
        };

        /// <summary>Runs the check of a behaviour of this area (reason: null for PASS, else why it
        /// failed); false when the name is not one of this area's.</summary>
        private static bool TryDispatchResources(string name, out string reason)
        {
            switch (name)
            {
                case "exhaust-kernel-heap": reason = ExhaustKernelHeap(); return true;
                case "frame-hog": reason = FrameHog(); return true;
                case "slice-hog": reason = SliceHog(); return true;
                case "fork-bomb": reason = ForkBomb(); return true;
                case "grant-exhaust": reason = GrantExhaust(); return true;
                case "mapping-hog": reason = MappingHog(); return true;
                case "syscall-fuzz-long": reason = SyscallFuzzLong(); return true;
                default: reason = null; return false;
            }
        }

        /// <summary>The quota each attacker gets: its own account with half the user pool, 16 slices,
        /// 64 environments, 4,096 grants and half the mappings (the kernel's choice for an app it starts; init gets it all).</summary>
        private static Quota AttackerQuota => new Quota
        {
            Frames = Accounts.UserPool / 2,
            Slices = 16,
            Environments = 64,
            Grants = 4096,
            Mappings = Accounts.UserMappings / 2,
        };

        /// <summary>Spawn in a new account of its own with AttackerQuota.</summary>
        private static Environment SpawnAttacker(string name)
        {
            Account account = Accounts.Open(AttackerQuota);
            if (account == null) return null;
            if (BootImages.Spawn(0, name, "", out Environment environment, out string problem, account) != Error.None)
            {
                Accounts.CloseIfEmpty(account);
                KernelLog.WriteLine("protection suite: cannot spawn '" + name + "': " + problem);
                return null;
            }
            environment.Capabilities.TryInsertAt(CapabilitySlots.Console, CapabilityKind.Console, 0);
            environment.KeepRecord = true;
            s_spawned.Add(environment);
            return environment;
        }

        /// <summary>null when the account stayed within its quota and the kernel's reserve is intact.</summary>
        private static string QuotaProblem(Account account)
        {
            if (account == null) return "the attacker has no account";
            if (account.FramesCharged > account.Limit.Frames)
                return "the account was charged " + account.FramesCharged.ToString() + " frames, over its quota of " + account.Limit.Frames.ToString();
            if (KernelMemory.Frames.FreeFrames < Accounts.ReserveFrames)
                return "only " + KernelMemory.Frames.FreeFrames.ToString() + " frames are free, below the kernel's reserve of " + Accounts.ReserveFrames.ToString();
            return null;
        }

        /// <summary>A bystander spawned and started by the kernel while an attack holds what it took:
        /// null when it ran to a clean end.</summary>
        private static string BystanderRunsDuringAttack()
        {
            Environment bystander = Spawn("bystander");
            if (bystander == null) return "the kernel could not create another environment during the attack";
            if (!Start(bystander)) return "the kernel could not start another environment during the attack";
            Scheduler.Run(() => !bystander.IsAlive, DefaultTicks);
            return BystanderProblem(bystander);
        }

        private static string ExhaustKernelHeap()
        {
            Environment app = SpawnAttacker("exhaust-kernel-heap");
            if (!Start(app)) return "cannot start";
            // The drain ends with the first refused FrameAllocate; measure from a little after it.
            Scheduler.Run(() => !app.IsAlive || app.SystemCallErrors >= 64, DefaultTicks);
            if (!app.IsAlive) return "the app " + Ending(app) + " before it hammered the kernel";
            System.Func<bool> ended = () => !app.IsAlive;
            ulong callsBefore = app.SystemCalls;
            ulong createdBefore = Environments.CreatedCount;
            ulong bytesBefore = (ulong)RuntimeHost.HeapBytesAllocated;
            ulong allocationsBefore = RuntimeHost.HeapAllocations;
            ulong heapFramesBefore = KernelMemory.HeapFrames;
            RuntimeHost.SetAllocationObserver(&Diagnostics.Panic.TraceAllocation);
            bool finished = Scheduler.Run(ended, 200000);
            RuntimeHost.SetAllocationObserver(null);
            ulong bytesAfter = (ulong)RuntimeHost.HeapBytesAllocated;
            ulong allocationsAfter = RuntimeHost.HeapAllocations;
            ulong heapFramesAfter = KernelMemory.HeapFrames;
            if (!finished) return "timed out";
            ulong calls = app.SystemCalls - callsBefore;
            if (!ExitedWith(app, 0)) return "the app " + Ending(app);
            if (calls < 20000) return "only " + calls.ToString() + " system calls were measured";
            ulong created = Environments.CreatedCount - createdBefore;
            if (created < 1000) return "only " + created.ToString() + " children were created and destroyed under memory pressure";
            if (bytesAfter != bytesBefore)
                return "the kernel heap allocated " + (bytesAfter - bytesBefore).ToString() + " bytes during " + calls.ToString() + " system calls";
            if (allocationsAfter != allocationsBefore)
                return "the kernel made " + (allocationsAfter - allocationsBefore).ToString() + " heap allocations during " + calls.ToString() + " system calls";
            if (heapFramesAfter != heapFramesBefore) return "the kernel heap grew by " + (heapFramesAfter - heapFramesBefore).ToString() + " frames";
            return BystanderRunsDuringAttack();
        }

        /// <summary>One environment maps a single frame at as many addresses as the kernel lets it.
        /// Each mapping takes a record of the FrameLedger's reverse map, a table shared by everyone:
        /// the hog must be refused within its account's quota of mappings, with records left for
        /// the rest, and other environments must still start and run while it holds them.</summary>
        private static string MappingHog()
        {
            Environment hog = SpawnAttacker("mapping-hog");
            if (!Start(hog)) return "cannot start";
            Scheduler.Run(() => !hog.IsAlive || Output(hog).Contains("mapping-hog: refused"), 200000);
            if (!hog.IsAlive) return "the hog " + Ending(hog) + ": " + Output(hog);
            if (!Output(hog).Contains("mapping-hog: refused")) return "the hog was never refused a mapping";
            string quota = QuotaProblem(hog.Account);
            if (quota != null) return quota;
            if (hog.Account.MappingsCharged > hog.Account.Limit.Mappings)
                return "the account holds " + hog.Account.MappingsCharged.ToString() + " mappings, over its quota of " + hog.Account.Limit.Mappings.ToString();
            if (hog.Account.MappingsCharged + SystemCallLimits.MaximumMapRequests < hog.Account.Limit.Mappings)
                return "the hog was refused with " + (hog.Account.Limit.Mappings - hog.Account.MappingsCharged).ToString() + " mappings of its quota left: " + Output(hog);
            int left = Environments.Ledger.FreeMappingRecords;
            string problem = BystanderRunsDuringAttack();
            if (problem != null) return problem + " (the hog maps " + hog.MappedPages.ToString() + " pages; " + left.ToString() + " mapping records were left)";
            if (!hog.IsAlive) return "the hog " + Ending(hog) + " instead of being refused";
            return null;
        }

        private static string FrameHog()
        {
            Environment hog = SpawnAttacker("frame-hog");
            if (!Start(hog)) return "cannot start";
            Scheduler.Run(() => !hog.IsAlive || hog.SystemCallErrors >= 1, DefaultTicks);
            if (!hog.IsAlive) return "the hog " + Ending(hog);
            if (hog.SystemCallErrors == 0) return "the hog was never refused a frame";
            ulong owned = Environments.Ledger.CountOwnedBy(hog.Id);
            string quota = QuotaProblem(hog.Account);
            if (quota != null) return quota;
            if (hog.Account.FramesCharged + 4 < hog.Account.Limit.Frames)
                return "the hog was refused with " + (hog.Account.Limit.Frames - hog.Account.FramesCharged).ToString() + " frames of its quota left";
            string problem = BystanderRunsDuringAttack();
            if (problem != null) return problem + " (the hog owns " + owned.ToString() + " frames; " + KernelMemory.Frames.FreeFrames.ToString() + " free)";
            if (!hog.IsAlive) return "the hog " + Ending(hog) + " instead of being refused";
            return null;
        }

        private static string SliceHog()
        {
            Environment hog = SpawnAttacker("slice-hog");
            if (!Start(hog)) return "cannot start";
            Scheduler.Run(() => !hog.IsAlive || hog.SystemCalls >= 64, DefaultTicks);
            if (!hog.IsAlive) return "the hog " + Ending(hog);
            int held = Environments.Slices.CountOwnedBy(hog.Id);
            if (held > AttackerQuota.Slices) return "the hog holds " + held.ToString() + " slices, over its quota of " + AttackerQuota.Slices.ToString();
            string problem = BystanderRunsDuringAttack();
            if (problem != null) return problem + " (the hog holds " + held.ToString() + " of 64 slices)";
            return null;
        }

        private static string ForkBomb()
        {
            Environment root = SpawnAttacker("fork-bomb");
            Account account = root == null ? null : root.Account;
            if (!Start(root)) return "cannot start";
            // Until every member of the tree waits (or is stopped): the bomb has done all it can.
            Scheduler.Run(() => !AnyRunnable(), 100000);
            int live = Environments.LiveCount;
            if (!root.IsAlive) return "the root " + Ending(root);
            if (live >= Environments.Capacity) return "the tree filled the environment table (" + live.ToString() + " environments)";
            if (account.Members > AttackerQuota.Environments) return "the tree has " + account.Members.ToString() + " environments, over its quota of " + AttackerQuota.Environments.ToString();
            string quota = QuotaProblem(account);
            if (quota != null) return quota;
            string problem = BystanderRunsDuringAttack();
            if (problem != null) return problem + " (" + live.ToString() + " environments live)";
            return null;
        }

        private static bool AnyRunnable()
        {
            for (int i = 0; i < Environments.Capacity; i++)
            {
                Environment environment = Environments.At(i);
                if (environment != null && environment.IsRunnable) return true;
            }
            return false;
        }

        /// <summary>1,000,000 random system calls (Tests/Apps/SyscallFuzz as "syscall-fuzz-long") while
        /// a frame hog, a slice hog and a fork bomb hold what they took, each in its own account;
        /// then a bystander must still run, the kernel heap must not have grown, and (RunOne) every
        /// frame must be back.</summary>
        private static string SyscallFuzzLong()
        {
            Environment hog = SpawnAttacker("frame-hog");
            Environment slices = SpawnAttacker("slice-hog");
            Environment bomb = SpawnAttacker("fork-bomb");
            if (!Start(hog) || !Start(slices) || !Start(bomb)) return "cannot start the attacks";
            Scheduler.Run(() => !AnyRunnableBut(hog, slices), 100000);
            Environment fuzz = SpawnAttacker("syscall-fuzz-long");
            GiveDevices(fuzz); // issue #9: the device calls too
            if (!Start(fuzz)) return "cannot start the fuzzer";
            System.Func<bool> ended = () => !fuzz.IsAlive;
            ulong allocationsBefore = RuntimeHost.HeapAllocations;
            ulong heapFramesBefore = KernelMemory.HeapFrames;
            RuntimeHost.SetAllocationObserver(&Diagnostics.Panic.TraceAllocation);
            bool finished = Scheduler.Run(ended, 3600000);
            RuntimeHost.SetAllocationObserver(null);
            ulong allocations = RuntimeHost.HeapAllocations - allocationsBefore;
            ulong heapFrames = KernelMemory.HeapFrames - heapFramesBefore;
            if (!finished) return "timed out after " + fuzz.SystemCalls.ToString() + " calls";
            KernelLog.WriteLine("syscall-fuzz-long: " + fuzz.SystemCalls.ToString() + " system calls, " + fuzz.SystemCallErrors.ToString()
                + " errors; kernel heap: " + allocations.ToString() + " allocations, " + heapFrames.ToString() + " new frames; "
                + Environments.LiveCount.ToString() + " environments live");
            if (fuzz.SystemCalls < 1000000) return "only " + fuzz.SystemCalls.ToString() + " system calls were made";
            if (!ExitedWith(fuzz, 0)) return "the fuzzer " + Ending(fuzz);
            if (allocations != 0) return "the kernel made " + allocations.ToString() + " heap allocations during the run";
            if (!hog.IsAlive || !slices.IsAlive || !bomb.IsAlive) return "an attacker ended during the run";
            return BystanderRunsDuringAttack();
        }

        /// <summary>Anyone runnable other than the two hogs (which yield forever)?</summary>
        private static bool AnyRunnableBut(Environment first, Environment second)
        {
            for (int i = 0; i < Environments.Capacity; i++)
            {
                Environment environment = Environments.At(i);
                if (environment != null && environment != first && environment != second && environment.IsRunnable) return true;
            }
            return false;
        }

        private static string GrantExhaust()
        {
            Environment app = SpawnAttacker("grant-exhaust");
            if (!Start(app)) return "cannot start";
            int peak = 0;
            Scheduler.Run(() =>
            {
                if (Environments.Ledger.GrantCount > peak) peak = Environments.Ledger.GrantCount;
                return !app.IsAlive;
            }, 200000);
            if (!ExitedWith(app, 0)) return "grant-exhaust " + Ending(app) + ": " + Output(app);
            if (peak >= Environments.Ledger.MaximumGrants) return "one environment's children took the whole grant pool (" + peak.ToString() + " grants)";
            if (Environments.PagesReceivedSince(s_createdBefore) != 0)
                return "a page was delivered by IPC although no grant could be made for it";
            if (app.PageSendsRefused == 0) return "the kernel refused no page send (the app never tried one past its grant quota)";
            if (peak > AttackerQuota.Grants) return "the tree made " + peak.ToString() + " grants, over its quota of " + AttackerQuota.Grants.ToString();
            return null;
        }
    }
}
