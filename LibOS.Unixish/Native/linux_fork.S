/*
 * linux_fork.S - a forked Linux process's first instructions (LibOS.Unixish/Linux/Processes/
 * LinuxFork.cs). The parent forks from inside its system-call handler: the child's upcall stack
 * is the parent's, copy-on-write (the kernel copies a page for the side that writes it first:
 * CopyOnWriteMark, turned on for the child before it starts); its top page holds the program's
 * UpcallFrame at UpcallStackTop - 256 and the trampoline's FXSAVE area of the program's SSE/x87
 * state just below it. The child is started here with RSP = RDI = that frame and the libOS's FS
 * base (EnvironmentCreate gives the child its creator's FS base, and the parent was in its
 * handler).
 *
 *   1. EnvironmentSetUpcall(Self, linux_upcall_entry, upcall stack top) and SetSystemCallUpcall
 *      (linux_upcall_entry): from then on faults, IPC and the program's system calls reach the
 *      child's libOS. The numbers come from C# (linux_fork_configure): nothing here hard-codes one.
 *   2. linux_fork_child_started(frame) (C#, on the upcall stack below the FXSAVE area): the child's
 *      own bookkeeping (RAX = 0 and the clone stack in the frame, an empty child table, its parent,
 *      CLONE_CHILD_SETTID ...).
 *   3. The program's SSE/x87 state back (fxrstor) and linux_resume_direct: the program resumes
 *      after its fork/clone `syscall` with RAX = 0.
 * Invariant: until step 1 completes the child touches only its own upcall stack and reads data
 * (a fault there has no handler: the kernel ends the child, and the parent's wait sees SIGKILL).
 */
#define FUNCTION(name) .globl name; .type name, @function; name:
#define FXSAVE_AREA_SIZE 512

    .text
    .code64

FUNCTION(linux_fork_child_entry)
    mov %rdi, %rbx                              /* the frame (Aegis system calls keep RBX) */
    mov linux_fork_set_upcall_number(%rip), %rax
    xor %edi, %edi                              /* CapabilitySlots.Self */
    lea linux_upcall_entry(%rip), %rsi
    mov linux_fork_upcall_stack_top(%rip), %rdx
    xor %r10d, %r10d                            /* stack pages: the default */
    syscall
    test %rax, %rax
    jnz 9f
    mov linux_fork_system_call_upcall_number(%rip), %rax
    lea linux_upcall_entry(%rip), %rdi
    syscall
    test %rax, %rax
    jnz 9f
    cld
    ldmxcsr linux_fork_default_mxcsr(%rip)
    lea -FXSAVE_AREA_SIZE(%rbx), %rsp           /* 16-byte aligned: the frame is */
    xor %ebp, %ebp
    mov %rbx, %rdi
    call linux_fork_child_started               /* void LinuxFork.ChildStarted(UpcallFrame*) */
    fxrstor64 -FXSAVE_AREA_SIZE(%rbx)
    mov %rbx, %rsp
    jmp linux_resume_direct
9:  ud2                                         /* no upcall entry: the kernel ends the child */
    jmp 9b
    .size linux_fork_child_entry, . - linux_fork_child_entry

/* void linux_fork_configure(ulong setUpcallNumber, ulong systemCallUpcallNumber, ulong upcallStackTop) */
FUNCTION(linux_fork_configure)
    mov %rdi, linux_fork_set_upcall_number(%rip)
    mov %rsi, linux_fork_system_call_upcall_number(%rip)
    mov %rdx, linux_fork_upcall_stack_top(%rip)
    ret
    .size linux_fork_configure, . - linux_fork_configure

FUNCTION(linux_symbol_fork_child_entry)
    lea linux_fork_child_entry(%rip), %rax
    ret
    .size linux_symbol_fork_child_entry, . - linux_symbol_fork_child_entry

    .section .rodata
    .balign 4
linux_fork_default_mxcsr:
    .long 0x1F80

    .section .data
    .balign 8
linux_fork_set_upcall_number:
    .quad 0
linux_fork_system_call_upcall_number:
    .quad 0
linux_fork_upcall_stack_top:
    .quad 0

    .section .note.GNU-stack, "", @progbits
