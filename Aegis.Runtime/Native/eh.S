/*
 * eh.S - the register-level half of exception handling (the managed half is
 * Internal/Runtime/ExceptionHandling/Dispatcher.cs; docs/runtime.md, "What a throw does"):
 *   RhpThrowEx, RhpRethrow, RhpThrowHwEx  capture the thrower's registers in a RegisterSet
 *                 (Rip, Rsp, Rbx, Rbp, R12, R13, R14, R15: 8 bytes each, this order) on the stack
 *                 and call the managed dispatcher, which never returns here;
 *   aegis_eh_call_catch / _finally / _filter  call a funclet of ILC-generated code with the
 *                 parent frame's registers, as the funclet contract wants (RDI = exception object
 *                 for catch and filter funclets; RBP = the parent's frame pointer; a catch
 *                 funclet returns the resume address in RAX, a filter its verdict in EAX).
 * Invariants: the catch and finally call stubs keep, right above their return address,
 * [8] the RegisterSet* of the parent frame and [16] the dispatcher's ExInfo*: a nested
 * dispatch that unwinds out of a funclet finds its parent frame there (Dispatcher.cs,
 * FrameWalker). The filter stub has CFI, so a nested dispatch unwinds through it into the
 * dispatcher, which catches what a filter throws. RhpThrowEx and friends keep the RBP chain
 * intact (push rbp; mov rsp, rbp) so an unhandled exception's report can still walk it.
 */
    .text
    .code64
#define FUNCTION(name) .globl name; .type name, @function; name:

/* Builds the RegisterSet below the (real or fake) return address at 0(%rsp), calls
   'dispatch' with RSI = RegisterSet* (RDI as set by the caller of the macro). */
.macro CAPTURE_AND_DISPATCH dispatch
    lea 8(%rsp), %rax           /* the thrower's RSP once "returned" */
    mov (%rsp), %rcx            /* return address: the thrower's RIP */
    push %rbp                   /* RBP chain: [rbp] = thrower's rbp, [rbp+8] = return address */
    mov %rsp, %rbp
    push %r15
    push %r14
    push %r13
    push %r12
    push 0(%rbp)                /* Rbp (the thrower's) */
    push %rbx
    push %rax                   /* Rsp */
    push %rcx                   /* Rip */
    mov %rsp, %rsi
    and $-16, %rsp
    call \dispatch
    int3
.endm

/* void RhpThrowEx(object exception): `throw` in ILC-generated code. */
FUNCTION(RhpThrowEx)
    xor %edx, %edx              /* kind 0: a throw */
    CAPTURE_AND_DISPATCH AegisDispatchThrow

/* void RhpRethrow(): `throw;` inside a catch block. */
FUNCTION(RhpRethrow)
    xor %edi, %edi
    mov $1, %edx                /* kind 1: rethrow the innermost active catch's exception */
    CAPTURE_AND_DISPATCH AegisDispatchThrow

/* RhpThrowHwEx: not called, resumed into by a fault handler with RDI = exception kind
   (Dispatcher.HardwareFault*), RSI = faulting RIP and every other register as at the fault.
   Pushes RIP + 1 as a fake return address, so the faulting frame looks like a caller frame
   whose call instruction is the faulting one (looked up at "return address - 1"). */
FUNCTION(RhpThrowHwEx)
    lea 1(%rsi), %rax
    push %rax
    mov %edi, %edx              /* kind */
    xor %edi, %edi
    CAPTURE_AND_DISPATCH AegisDispatchHardwareFault

/* object-less helpers for the dispatcher */
FUNCTION(aegis_eh_frame_hdr_start)
    lea __eh_frame_hdr_start(%rip), %rax
    ret
FUNCTION(aegis_eh_frame_hdr_end)
    lea __eh_frame_hdr_end(%rip), %rax
    ret
FUNCTION(aegis_eh_catch_return_address)
    lea aegis_eh_catch_return(%rip), %rax
    ret
FUNCTION(aegis_eh_finally_return_address)
    lea aegis_eh_finally_return(%rip), %rax
    ret
FUNCTION(aegis_eh_throw_hw_address)
    lea RhpThrowHwEx(%rip), %rax
    ret

/* Loads the callee-saved registers from the RegisterSet at \regs. */
.macro LOAD_FRAME regs
    mov 16(\regs), %rbx
    mov 24(\regs), %rbp
    mov 32(\regs), %r12
    mov 40(\regs), %r13
    mov 48(\regs), %r14
    mov 56(\regs), %r15
.endm

/* void aegis_eh_call_catch(object exception, void* funclet, RegisterSet* frame, ExInfo* exInfo,
   ExInfo** head): never returns. Calls the catch funclet with the frame's registers, then
   drops the ExInfos of dispatches whose frames are gone (on this stack, between this dispatch's
   ExInfo and the frame's RSP; an ExInfo on another stack, e.g. of code an upcall interrupted,
   stays), and resumes
   the parent at the address the funclet returned, with RSP = frame->Rsp and the callee-saved
   registers as the funclet left them. */
FUNCTION(aegis_eh_call_catch)
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rcx                   /* [rsp+16] after the call: ExInfo* */
    push %rdx                   /* [rsp+8]: RegisterSet* */
    push %r8                    /* [rsp+0]: ExInfo** head (and alignment) */
    mov %rsi, %rax
    LOAD_FRAME %rdx
    call *%rax                  /* rdi = exception object */
    .globl aegis_eh_catch_return
aegis_eh_catch_return:
    mov 8(%rsp), %rdx
    mov 8(%rdx), %rdx           /* the resume RSP */
    mov 16(%rsp), %r9           /* this dispatch's ExInfo */
    mov 0(%rsp), %r8
    mov %r9, %rcx
1:  mov (%rcx), %rcx            /* ExInfo.Previous */
    test %rcx, %rcx
    jz 2f
    cmp %rdx, %rcx
    jae 2f                      /* at or above the resume RSP: still alive */
    cmp %r9, %rcx
    ja 1b                       /* between this dispatch and the resume RSP (this stack): gone */
2:  mov %rcx, (%r8)
    mov %rdx, %rsp
    jmp *%rax

/* void aegis_eh_call_finally(void* funclet, RegisterSet* frame, ExInfo* exInfo): calls a
   finally (fault) funclet with the frame's registers; keeps its own callee-saved registers. */
FUNCTION(aegis_eh_call_finally)
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rdx                   /* [rsp+16] after the call: ExInfo* */
    push %rsi                   /* [rsp+8]: RegisterSet* */
    sub $8, %rsp
    LOAD_FRAME %rsi
    call *%rdi
    .globl aegis_eh_finally_return
aegis_eh_finally_return:
    add $24, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

/* bool aegis_eh_call_filter(object exception, void* funclet, RegisterSet* frame): calls a filter
   funclet with the parent's RBP. Described by CFI: an exception the filter throws unwinds
   through here into the dispatcher, which treats it as "the filter declined". */
FUNCTION(aegis_eh_call_filter)
    .cfi_startproc
    push %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    push %rbx
    .cfi_def_cfa_offset 24
    .cfi_offset %rbx, -24
    push %r12
    .cfi_def_cfa_offset 32
    .cfi_offset %r12, -32
    push %r13
    .cfi_def_cfa_offset 40
    .cfi_offset %r13, -40
    push %r14
    .cfi_def_cfa_offset 48
    .cfi_offset %r14, -48
    push %r15
    .cfi_def_cfa_offset 56
    .cfi_offset %r15, -56
    sub $8, %rsp
    .cfi_def_cfa_offset 64
    mov 24(%rdx), %rbp
    call *%rsi
    add $8, %rsp
    .cfi_def_cfa_offset 56
    pop %r15
    .cfi_def_cfa_offset 48
    pop %r14
    .cfi_def_cfa_offset 40
    pop %r13
    .cfi_def_cfa_offset 32
    pop %r12
    .cfi_def_cfa_offset 24
    pop %rbx
    .cfi_def_cfa_offset 16
    pop %rbp
    .cfi_def_cfa_offset 8
    ret
    .cfi_endproc
