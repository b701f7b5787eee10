/*
 * bench.S - the machine-level pieces of the benchmark app (docs/benchmarks.md):
 *   bench_rdtsc              the time stamp counter (under -icount shift=0: instructions);
 *   bench_int3               one breakpoint (exception_upcall);
 *   bench_read               a read that faults on an unmapped page (trap); the handler
 *                            resumes at bench_read_resume, past the faulting instruction;
 *   bench_syscall_loop       n raw Null system calls, nothing else (the kernel's share of
 *                            null_syscall);
 *   bench_raw_upcall_entry   a minimal upcall entry (no SSE save, no C#): resumes
 *                            breakpoints as they are and page faults at bench_read_resume;
 *                            any other upcall goes to LibOS.Base's trampoline. It measures
 *                            what the kernel's delivery costs without the libOS's dispatch;
 *   bench_echo_entry         the assembly IPC echo server's upcall entry (PART
 *                            ipc_roundtrip.asm_echo): answers an IpcCall with its first
 *                            word, then waits on its own small stack (off the upcall stack,
 *                            so the next call's frame starts again at the top instead of
 *                            nesting below this one); an IpcSend ends the server; anything
 *                            else goes to LibOS.Base's trampoline;
 *   bench_syscall_upcall_loop n system calls with RAX = 39 (Linux's getppid: below
 *                            SYSTEM_CALL_FIRST), each delivered by the kernel as a system-call
 *                            upcall (SetSystemCallUpcall) to bench_syscall_upcall_entry;
 *   bench_syscall_upcall_entry the smallest system-call upcall entry: answers 0 and resumes the
 *                            program itself (no kernel call), relying on the contract that the
 *                            kernel changed only RAX, RCX, R11, RDI, RSP and RFLAGS (docs/abi.md,
 *                            "System-call upcalls"): the kernel's share of a Linux getppid;
 *   bench_trace_begin/end    empty markers around one traced operation (./aegis bench --trace).
 * The system-call convention and the UpcallFrame layout are Aegis.Abi's (SystemCall.cs,
 * Upcall.cs), as numbers in Aegis.Abi/abi.h (checked against the C# by a host test).
 */
#define FUNCTION(name) .globl name; .type name, @function; name:

#include "abi.h"

#define X86_PAGE_FAULT_VECTOR 14          /* the CPU's #PF vector (UpcallFrame.Trap) */
#define FRAME_RIP (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RIP)

    .text
    .code64

/* ulong bench_rdtsc(void) */
FUNCTION(bench_rdtsc)
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    ret
    .size bench_rdtsc, . - bench_rdtsc

/* void bench_int3(void): the handler resumes after the int3 (a trap: RIP is already past it). */
FUNCTION(bench_int3)
    int3
    ret
    .size bench_int3, . - bench_int3

/* ulong bench_read(ulong* address): faults when address is not mapped; the handler sets
   RIP to bench_read_resume and the function returns whatever RAX then holds. */
FUNCTION(bench_read)
    mov (%rdi), %rax
FUNCTION(bench_read_resume)
    ret
    .size bench_read, . - bench_read

/* void bench_syscall_loop(ulong count): count Null system calls (count > 0). The count lives
   in RBX: a system call may clobber RDI, RSI, RDX, R8-R10 (docs/abi.md). */
FUNCTION(bench_syscall_loop)
    push %rbx
    mov %rdi, %rbx
1:  mov $SYSTEM_CALL_NULL, %eax
    syscall
    dec %rbx
    jnz 1b
    pop %rbx
    ret
    .size bench_syscall_loop, . - bench_syscall_loop

/* void bench_int3_loop(ulong count): count breakpoints (count > 0). */
FUNCTION(bench_int3_loop)
1:  int3
    dec %rdi
    jnz 1b
    ret
    .size bench_int3_loop, . - bench_int3_loop

/* void bench_read_loop(ulong* address, ulong count): count faulting reads through bench_read. */
FUNCTION(bench_read_loop)
    push %rbx
    push %r12
    mov %rdi, %rbx
    mov %rsi, %r12
1:  mov %rbx, %rdi
    call bench_read
    dec %r12
    jnz 1b
    pop %r12
    pop %rbx
    ret
    .size bench_read_loop, . - bench_read_loop


/* The raw upcall entry: RSP = RDI = the UpcallFrame. */
FUNCTION(bench_raw_upcall_entry)
    cmpq $UPCALL_KIND_EXCEPTION, UPCALL_FRAME_KIND(%rdi)
    jne aegis_upcall_entry
    cmpq $X86_PAGE_FAULT_VECTOR, UPCALL_FRAME_TRAP(%rdi)
    jne 1f
    lea bench_read(%rip), %rax          /* only bench_read's fault is resumed here */
    cmp %rax, FRAME_RIP(%rdi)
    jne aegis_upcall_entry
    lea bench_read_resume(%rip), %rax
    mov %rax, FRAME_RIP(%rdi)
1:  jmp aegis_upcall_resume            /* LibOS.Base resumes the frame at RSP */
    .size bench_raw_upcall_entry, . - bench_raw_upcall_entry

/* The echo server's upcall entry: RSP = RDI = the UpcallFrame. */
FUNCTION(bench_echo_entry)
    cmpq $UPCALL_KIND_IPC_CALL, UPCALL_FRAME_KIND(%rdi)
    jne 2f
    mov UPCALL_FRAME_WORD0(%rdi), %rdi         /* reply word 0: the request's word 0 */
    xor %esi, %esi                      /* reply word 1 */
    lea echo_idle_stack_top(%rip), %rsp /* off the upcall stack: the next frame goes on top */
    mov $SYSTEM_CALL_IPC_REPLY, %eax
    syscall
    /* Resumed only when the server runs on its own time slice: wait for the next call. */
1:  mov $SYSTEM_CALL_WAIT, %eax
    syscall
    jmp 1b
2:  cmpq $UPCALL_KIND_IPC_SEND, UPCALL_FRAME_KIND(%rdi)
    jne aegis_upcall_entry
    mov $SYSTEM_CALL_EXIT, %eax             /* the client is done: exit with status 0 */
    xor %edi, %edi
    xor %esi, %esi                      /* Exit's crash argument: none (a normal end) */
    syscall
    ud2
    .size bench_echo_entry, . - bench_echo_entry

/* void bench_syscall_upcall_loop(ulong count): count system calls with number 39 (count > 0).
   The count lives in RBX (the libOS resumes every register but RAX, RCX and R11). */
FUNCTION(bench_syscall_upcall_loop)
    push %rbx
    mov %rdi, %rbx
1:  mov $39, %eax                       /* a hosted program's number (Linux x86-64 getppid) */
    syscall
    dec %rbx
    jnz 1b
    pop %rbx
    ret
    .size bench_syscall_upcall_loop, . - bench_syscall_upcall_loop

/* The system-call upcall entry: RSP = RDI = the UpcallFrame (kind SystemCall). Everything but
   RAX, RCX, R11, RDI, RSP and RFLAGS still holds the program's value, so those are all it
   restores: RFLAGS, R11 = RFLAGS and RCX = RIP (as Linux leaves them), RDI, RAX = the result,
   then RSP, and jumps back. */
#define SYSCALL_FRAME(name) (UPCALL_FRAME_REGISTERS + USER_REGISTERS_##name)
FUNCTION(bench_syscall_upcall_entry)
    pushq SYSCALL_FRAME(RFLAGS)(%rsp)
    popfq
    mov SYSCALL_FRAME(R11)(%rsp), %r11
    mov SYSCALL_FRAME(RIP)(%rsp), %rcx
    mov SYSCALL_FRAME(RSP)(%rsp), %rdi  /* the program's RSP, until RDI is restored */
    xor %eax, %eax                      /* the answer: 0 */
    xchg %rdi, %rsp
    mov SYSCALL_FRAME(RDI)(%rdi), %rdi
    jmp *%rcx
    .size bench_syscall_upcall_entry, . - bench_syscall_upcall_entry

/* Markers for ./aegis bench --trace: bench_trace_begin(id) is called right before one
   operation of primitive number id, bench_trace_end right after it. */
FUNCTION(bench_trace_begin)
    ret
    .size bench_trace_begin, . - bench_trace_begin
FUNCTION(bench_trace_end)
    ret
    .size bench_trace_end, . - bench_trace_end

/* Addresses for C#. */
FUNCTION(bench_symbol_syscall_upcall_entry)
    lea bench_syscall_upcall_entry(%rip), %rax
    ret
FUNCTION(bench_symbol_raw_upcall_entry)
    lea bench_raw_upcall_entry(%rip), %rax
    ret
FUNCTION(bench_symbol_echo_entry)
    lea bench_echo_entry(%rip), %rax
    ret
FUNCTION(bench_symbol_read_resume)
    lea bench_read_resume(%rip), %rax
    ret

    .section .bss
    .balign 16
echo_idle_stack:
    .skip 4096
echo_idle_stack_top:

    .section .note.GNU-stack, "", @progbits
