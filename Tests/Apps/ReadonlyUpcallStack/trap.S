/*
 * trap.S - rous_trap_on(rsp) executes int3 with RSP = rsp (a chosen depth on the upcall stack)
 * and returns on the caller's stack. rous_symbol_resume gives C# the address of LibOS.Base's
 * aegis_upcall_resume, used as the upcall entry: it resumes the frame the kernel wrote at once.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:
    .text
FUNCTION(rous_trap_on)
    mov %rsp, %rax                      /* kept across the upcall: it resumes every register */
    mov %rdi, %rsp
    int3
    mov %rax, %rsp
    ret

FUNCTION(rous_symbol_resume)
    lea aegis_upcall_resume(%rip), %rax
    ret

    .section .note.GNU-stack, "", @progbits
