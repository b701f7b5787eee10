/*
 * faultregs.S - void faultregs_run(ulong* expected, ulong* actual)
 * Loads every general register, RFLAGS and the low halves of xmm0..xmm15 from 'expected'
 * (RSP cannot be chosen: its value at the fault is stored into 'expected' instead), takes a page
 * fault at faultregs_fault (a store of AL to address 0x1000, never mapped; it changes no
 * register or flag), and once resumed at faultregs_fault_end stores what the registers hold
 * into 'actual'. Both arrays use the layout of Program.cs (Slot*):
 *   [0..14]  r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax (UserRegisters order)
 *   [15]     rflags      [16] rsp      [17..32] xmm0..xmm15 (low 64 bits)
 * Callee-saved registers and the direction flag are put back before returning to C#.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:
#define SLOT_RFLAGS (15 * 8)
#define SLOT_RSP    (16 * 8)
#define SLOT_XMM(i) ((17 + (i)) * 8)

    .text
FUNCTION(faultregs_run)
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rsi                       /* actual: 8(%rsp) at the fault */
    push %rdi                       /* expected: 0(%rsp) at the fault */
    mov %rsp, SLOT_RSP(%rdi)

    mov %rdi, %rax
    movq SLOT_XMM(0)(%rax), %xmm0
    movq SLOT_XMM(1)(%rax), %xmm1
    movq SLOT_XMM(2)(%rax), %xmm2
    movq SLOT_XMM(3)(%rax), %xmm3
    movq SLOT_XMM(4)(%rax), %xmm4
    movq SLOT_XMM(5)(%rax), %xmm5
    movq SLOT_XMM(6)(%rax), %xmm6
    movq SLOT_XMM(7)(%rax), %xmm7
    movq SLOT_XMM(8)(%rax), %xmm8
    movq SLOT_XMM(9)(%rax), %xmm9
    movq SLOT_XMM(10)(%rax), %xmm10
    movq SLOT_XMM(11)(%rax), %xmm11
    movq SLOT_XMM(12)(%rax), %xmm12
    movq SLOT_XMM(13)(%rax), %xmm13
    movq SLOT_XMM(14)(%rax), %xmm14
    movq SLOT_XMM(15)(%rax), %xmm15
    mov 0(%rax), %r15
    mov 8(%rax), %r14
    mov 16(%rax), %r13
    mov 24(%rax), %r12
    mov 32(%rax), %r11
    mov 40(%rax), %r10
    mov 48(%rax), %r9
    mov 56(%rax), %r8
    mov 64(%rax), %rbp
    mov 72(%rax), %rdi
    mov 80(%rax), %rsi
    mov 88(%rax), %rdx
    mov 96(%rax), %rcx
    mov 104(%rax), %rbx
    pushq SLOT_RFLAGS(%rax)
    popfq
    mov 112(%rax), %rax             /* mov changes no flag */
faultregs_fault:
    mov %al, 0x1000
faultregs_fault_end:
    /* The kernel's checkpoint: with every register as resumed, stop (EnvironmentStop(Self)); the
       kernel reads the registers from its saved state and, for the five the syscall itself uses
       (RFLAGS, RAX, RCX, RDI, R11), from the stack where they are pushed first, as it does the
       low halves of xmm0..xmm15 (stored below them). Everything is put back after the stop, so the
       app's own comparison below still sees the registers as resumed. */
    pushfq
    push %rax
    push %rcx
    push %rdi
    push %r11
    push %rsi
    push %rdx
    push %r8
    push %r9
    push %r10
    sub $128, %rsp                  /* and the SSE registers (a system call may clobber them) */
    movq %xmm0, 0(%rsp)
    movq %xmm1, 8(%rsp)
    movq %xmm2, 16(%rsp)
    movq %xmm3, 24(%rsp)
    movq %xmm4, 32(%rsp)
    movq %xmm5, 40(%rsp)
    movq %xmm6, 48(%rsp)
    movq %xmm7, 56(%rsp)
    movq %xmm8, 64(%rsp)
    movq %xmm9, 72(%rsp)
    movq %xmm10, 80(%rsp)
    movq %xmm11, 88(%rsp)
    movq %xmm12, 96(%rsp)
    movq %xmm13, 104(%rsp)
    movq %xmm14, 112(%rsp)
    movq %xmm15, 120(%rsp)
    mov faultregs_stop_call(%rip), %rax
    xor %edi, %edi
    syscall
    movq 0(%rsp), %xmm0
    movq 8(%rsp), %xmm1
    movq 16(%rsp), %xmm2
    movq 24(%rsp), %xmm3
    movq 32(%rsp), %xmm4
    movq 40(%rsp), %xmm5
    movq 48(%rsp), %xmm6
    movq 56(%rsp), %xmm7
    movq 64(%rsp), %xmm8
    movq 72(%rsp), %xmm9
    movq 80(%rsp), %xmm10
    movq 88(%rsp), %xmm11
    movq 96(%rsp), %xmm12
    movq 104(%rsp), %xmm13
    movq 112(%rsp), %xmm14
    movq 120(%rsp), %xmm15
    add $128, %rsp
    pop %r10
    pop %r9
    pop %r8
    pop %rdx
    pop %rsi
    pop %r11
    pop %rdi
    pop %rcx
    pop %rax
    popfq
    pushfq
    push %rax
    mov 24(%rsp), %rax              /* actual (above the two pushes and 'expected') */
    mov %r15, 0(%rax)
    mov %r14, 8(%rax)
    mov %r13, 16(%rax)
    mov %r12, 24(%rax)
    mov %r11, 32(%rax)
    mov %r10, 40(%rax)
    mov %r9, 48(%rax)
    mov %r8, 56(%rax)
    mov %rbp, 64(%rax)
    mov %rdi, 72(%rax)
    mov %rsi, 80(%rax)
    mov %rdx, 88(%rax)
    mov %rcx, 96(%rax)
    mov %rbx, 104(%rax)
    popq 112(%rax)                  /* the interrupted code's rax */
    popq SLOT_RFLAGS(%rax)
    mov %rsp, SLOT_RSP(%rax)
    movq %xmm0, SLOT_XMM(0)(%rax)
    movq %xmm1, SLOT_XMM(1)(%rax)
    movq %xmm2, SLOT_XMM(2)(%rax)
    movq %xmm3, SLOT_XMM(3)(%rax)
    movq %xmm4, SLOT_XMM(4)(%rax)
    movq %xmm5, SLOT_XMM(5)(%rax)
    movq %xmm6, SLOT_XMM(6)(%rax)
    movq %xmm7, SLOT_XMM(7)(%rax)
    movq %xmm8, SLOT_XMM(8)(%rax)
    movq %xmm9, SLOT_XMM(9)(%rax)
    movq %xmm10, SLOT_XMM(10)(%rax)
    movq %xmm11, SLOT_XMM(11)(%rax)
    movq %xmm12, SLOT_XMM(12)(%rax)
    movq %xmm13, SLOT_XMM(13)(%rax)
    movq %xmm14, SLOT_XMM(14)(%rax)
    movq %xmm15, SLOT_XMM(15)(%rax)
    cld
    add $16, %rsp                   /* expected, actual */
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

FUNCTION(faultregs_fault_address)
    lea faultregs_fault(%rip), %rax
    ret

FUNCTION(faultregs_fault_end_address)
    lea faultregs_fault_end(%rip), %rax
    ret

/* The handler calls this to overwrite every caller-saved register, the flags and the SSE
   registers with garbage before it returns, so that only the upcall frame can restore them. */
FUNCTION(faultregs_clobber)
    mov $0xDEADDEADDEADDEAD, %rax
    mov %rax, %rcx
    mov %rax, %rdx
    mov %rax, %rsi
    mov %rax, %rdi
    mov %rax, %r8
    mov %rax, %r9
    mov %rax, %r10
    mov %rax, %r11
    movq %rax, %xmm0
    pshufd $0, %xmm0, %xmm0
    movdqa %xmm0, %xmm1
    movdqa %xmm0, %xmm2
    movdqa %xmm0, %xmm3
    movdqa %xmm0, %xmm4
    movdqa %xmm0, %xmm5
    movdqa %xmm0, %xmm6
    movdqa %xmm0, %xmm7
    movdqa %xmm0, %xmm8
    movdqa %xmm0, %xmm9
    movdqa %xmm0, %xmm10
    movdqa %xmm0, %xmm11
    movdqa %xmm0, %xmm12
    movdqa %xmm0, %xmm13
    movdqa %xmm0, %xmm14
    movdqa %xmm0, %xmm15
    xor %eax, %eax                  /* flags: ZF PF set, CF SF OF clear */
    ret

/* void faultregs_set_stop_call(ulong number): the EnvironmentStop number (C# passes Aegis.Abi's). */
FUNCTION(faultregs_set_stop_call)
    mov %rdi, faultregs_stop_call(%rip)
    ret

    .data
    .balign 8
faultregs_stop_call:
    .quad 0

    .section .note.GNU-stack, "", @progbits
