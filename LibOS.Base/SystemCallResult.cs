// What a system call returns: RAX (a value >= 0, or a negative Aegis.Abi.Error) and RDX (the
// second result of the calls that have one). The layout is the register pair: the assembly
// stub returns this 16-byte struct in RAX:RDX, as the x86-64 System V ABI does for two integers.
using System.Runtime.InteropServices;
using Aegis.Abi;

namespace Aegis.LibOS
{
    [StructLayout(LayoutKind.Sequential)]
    public readonly struct SystemCallResult
    {
        private readonly long _rax;
        private readonly ulong _rdx;

        public SystemCallResult(long rax, ulong rdx) { _rax = rax; _rdx = rdx; }

        /// <summary>True when RAX holds an Error (a negative value).</summary>
        /// <summary>Errors are -4095..-1 (docs/abi.md); other negative values are results, e.g. a
        /// PageQuery of a no-execute page (bit 63 set).</summary>
        public bool IsError => _rax < 0 && _rax >= -4095;
        /// <summary>The error, or Error.None on success.</summary>
        public Error Error => _rax < 0 ? (Error)_rax : Error.None;
        /// <summary>RAX as the call's result (meaningful only when !IsError).</summary>
        public ulong Value => (ulong)_rax;
        /// <summary>RDX: the second result (EnvironmentStatus, CapabilityQuery; IpcCall's reply word 0).</summary>
        public ulong Second => _rdx;
        /// <summary>RAX as the kernel returned it.</summary>
        public long Raw => _rax;

        public override string ToString() => IsError ? Errors.Name(Error) : "0x" + Value.ToString("x");
    }
}
