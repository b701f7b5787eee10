// Accounts: who pays for what an environment causes ("expose allocation": whoever asks pays).
// An account holds quotas of frames, time slices, environments and grants, and what its
// environments use of each. Every environment belongs to exactly one account for its whole life:
// an environment the kernel starts itself (init, the protection suite's apps) gets a new account
// with the quota the kernel chooses; a child made by EnvironmentCreate or ImageSpawn joins its
// creator's account, so a whole tree draws on the quota its root was given, and what a child
// used returns to the account when the child ends. Exhausting a quota is QuotaExceeded.
// Frames charged: the user frames the environment owns (FrameAllocate, its image and stack) and
// the kernel objects it caused: its page-table frames and its environment page. A frame stops
// being charged when its owner gives it up (FrameFree, revocation) or ends.
// Besides the quotas, the kernel keeps a reserve of frames no user allocation may take (page
// tables included): ReserveFrames frames stay free for the kernel heap whatever users do.
// Invariants: an account is in use iff Members > 0 (or it was just opened for a spawn);
// FramesCharged == the sum of its members' FramesCharged; no member allocates past a quota;
// nothing here allocates after Initialize (the accounts are preallocated, one per table slot).
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    /// <summary>What the kernel gives an account it opens.</summary>
    internal struct Quota
    {
        public ulong Frames;
        public int Slices;
        public int Environments;
        public int Grants;
        /// <summary>Page-table entries mapping ledger frames (each takes a reverse-map record).</summary>
        public long Mappings;
    }

    internal sealed class Account
    {
        public int Index;
        public bool InUse;
        public int Members;
        public Quota Limit;
        public ulong FramesCharged;
        /// <summary>Mappings its members hold (the sum of their MappedPages while they are members).</summary>
        public long MappingsCharged;
    }

    internal static class Accounts
    {
        /// <summary>Environment-table slots no account may take (the kernel's own margin).</summary>
        public const int ReservedEnvironments = 8;

        private static Account[] s_accounts;
        private static ulong s_reserveFrames;
        private static ulong s_userPool;

        /// <summary>Frames that stay free for the kernel: a user allocation that would go below it fails.</summary>
        public static ulong ReserveFrames => s_reserveFrames;

        /// <summary>Frames users may have in all (free frames at start minus the reserve).</summary>
        public static ulong UserPool => s_userPool;

        public static void Initialize()
        {
            s_accounts = new Account[EnvironmentTable.Capacity];
            for (int i = 0; i < s_accounts.Length; i++)
                s_accounts[i] = new Account { Index = i };
            ulong free = KernelMemory.Frames.FreeFrames;
            // 1/32 of memory, at least 1,024 frames (4 MiB): the kernel heap's room to grow.
            s_reserveFrames = free / 32 < 1024 ? 1024 : free / 32;
            s_userPool = free > s_reserveFrames ? free - s_reserveFrames : 0;
        }

        /// <summary>Everything users may have: what init gets.</summary>
        public static Quota Whole => new Quota
        {
            Frames = s_userPool,
            Slices = SliceVector.DefaultCount,
            Environments = EnvironmentTable.Capacity - ReservedEnvironments,
            Grants = FrameLedger.DefaultMaximumGrants / 2,
            Mappings = UserMappings,
        };

        /// <summary>Reverse-map records users may hold in all: the ledger's, less 1/16 kept back so that
        /// no account can take the last of them.</summary>
        public static long UserMappings => Environments.Ledger.MaximumMappings - Environments.Ledger.MaximumMappings / 16;

        /// <summary>A new account with this quota, or null when every account is in use.</summary>
        public static Account Open(Quota quota)
        {
            for (int i = 0; i < s_accounts.Length; i++)
            {
                Account account = s_accounts[i];
                if (account.InUse) continue;
                account.InUse = true;
                account.Members = 0;
                account.Limit = quota;
                account.FramesCharged = 0;
                return account;
            }
            return null;
        }

        /// <summary>Closes an account no environment joined (a spawn that failed early).</summary>
        public static void CloseIfEmpty(Account account)
        {
            if (account != null && account.Members == 0)
                account.InUse = false;
        }

        public static Error CheckEnvironment(Account account)
            => account.Members >= account.Limit.Environments ? Error.QuotaExceeded : Error.None;

        public static void Join(Environment environment, Account account)
        {
            environment.Account = account;
            environment.FramesCharged = 0;
            account.Members++;
        }

        /// <summary>The environment ended: what it was charged returns to its account.</summary>
        public static void Leave(Environment environment)
        {
            Account account = environment.Account;
            if (account == null) return;
            account.FramesCharged -= environment.FramesCharged;
            environment.FramesCharged = 0;
            account.MappingsCharged -= environment.MappedPages; // its pages are unmapped after it left

            account.Members--;
            if (account.Members == 0)
                account.InUse = false;
            environment.Account = null;
        }

        /// <summary>May 'count' more frames be charged to the environment (its quota, the kernel's reserve)?</summary>
        public static Error CheckFrames(Environment environment, ulong count)
        {
            Account account = environment.Account;
            if (account != null && account.FramesCharged + count > account.Limit.Frames)
                return Error.QuotaExceeded;
            if (KernelMemory.Frames.FreeFrames < s_reserveFrames + count)
                return Error.NoMemory;
            return Error.None;
        }

        /// <summary>May 'count' more mappings be recorded for the environment (its account's quota)?</summary>
        public static Error CheckMappings(Environment environment, int count)
        {
            Account account = environment.Account;
            if (account != null && account.MappingsCharged + count > account.Limit.Mappings)
                return Error.QuotaExceeded;
            return Error.None;
        }

        /// <summary>Takes one free frame for the environment, charged to it; false with the reason.</summary>
        public static Error TakeFrame(Environment environment, out ulong frame)
        {
            frame = 0;
            Error error = CheckFrames(environment, 1);
            if (error != Error.None) return error;
            if (!KernelMemory.Frames.TryAllocate(out frame)) return Error.NoMemory;
            Charge(environment, 1);
            return Error.None;
        }

        public static void Charge(Environment environment, ulong count)
        {
            environment.FramesCharged += count;
            if (environment.Account != null) environment.Account.FramesCharged += count;
        }

        public static void Uncharge(Environment environment, ulong count)
        {
            environment.FramesCharged -= count;
            if (environment.Account != null) environment.Account.FramesCharged -= count;
        }

        /// <summary>Slices held by the account's environments (a scan of the 64-entry vector).</summary>
        public static int SlicesHeld(Account account)
        {
            SliceVector slices = Environments.Slices;
            int held = 0;
            for (int i = 0; i < slices.Count; i++)
            {
                ulong owner = slices.OwnerOf(i);
                if (owner == 0) continue;
                Environment environment = Environments.Find(owner);
                if (environment != null && environment.Account == account) held++;
            }
            return held;
        }

        public static Error CheckSlice(Environment environment)
        {
            Account account = environment.Account;
            if (account != null && SlicesHeld(account) >= account.Limit.Slices)
                return Error.QuotaExceeded;
            return Error.None;
        }

        /// <summary>May the environment make one more grant (a new one; re-granting changes rights only)?</summary>
        public static Error CheckGrant(Environment environment)
        {
            Account account = environment.Account;
            if (account != null && Environments.Ledger.GrantsOf(account.Index) >= account.Limit.Grants)
                return Error.QuotaExceeded;
            return Error.None;
        }
    }
}
