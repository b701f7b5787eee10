/* signal-fpstate: the SSE/x87 state across a signal delivered at a system call's return (kill to
   itself: the libOS's fast delivery) and back through rt_sigreturn:
   - the handler starts with the initial state (MXCSR 0x1F80, x87 control word 0x37F, XMM15 zero);
   - the frame's fpregs hold the interrupted state (MXCSR's rounding mode, XMM15);
   - what the handler does to its own registers does not leak back: the program has its state again;
   - what the handler writes into the frame's fpregs is what the program has after sigreturn.
   The value in XMM15 is set and read in the same asm statement as the kill system call, so no
   compiled code can touch it in between. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define MXCSR_DEFAULT 0x1F80u
#define ROUND_UP 0x4000u
#define ROUND_DOWN 0x2000u
#define ROUND_ZERO 0x6000u
#define FLAGS 0x3Fu /* exception flags: whatever earlier arithmetic left */

static int failures;
static void check(int ok, const char *what) { printf("%s: %s\n", what, ok ? "ok" : "FAILED"); if (!ok) failures++; }

static volatile int rewrite;
static volatile unsigned entry_mxcsr, entry_cw, frame_mxcsr;
static volatile uint64_t entry_xmm15, frame_xmm15;

static unsigned get_mxcsr(void) { unsigned v; __asm__ volatile("stmxcsr %0" : "=m"(v)); return v; }
static void set_mxcsr(unsigned v) { __asm__ volatile("ldmxcsr %0" : : "m"(v)); }

static void handler(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    uint64_t x15;
    unsigned short cw;
    __asm__ volatile("movq %%xmm15, %0" : "=r"(x15));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    entry_xmm15 = x15;
    entry_cw = cw;
    entry_mxcsr = get_mxcsr();
    ucontext_t *uc = context;
    frame_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    memcpy((void *)&frame_xmm15, &uc->uc_mcontext.fpregs->_xmm[15], 8);
    /* The handler's own state changes: they must not reach the program. */
    set_mxcsr(MXCSR_DEFAULT | ROUND_ZERO);
    __asm__ volatile("movq %0, %%xmm15" : : "r"((uint64_t)0x1111) : "xmm15");
    if (rewrite) {
        uint64_t replacement = 0x2222;
        uc->uc_mcontext.fpregs->mxcsr = MXCSR_DEFAULT | ROUND_DOWN;
        memcpy(&uc->uc_mcontext.fpregs->_xmm[15], &replacement, 8);
    }
}

/* kill(pid, SIGUSR1) with XMM15 = value before the system call; XMM15 after it. */
static uint64_t kill_around_xmm15(pid_t pid, uint64_t value, long *result)
{
    uint64_t out;
    long ret;
    __asm__ volatile("movq %[v], %%xmm15\n\t"
                     "syscall\n\t"
                     "movq %%xmm15, %[o]"
                     : [o] "=r"(out), "=a"(ret)
                     : [v] "r"(value), "a"((long)SYS_kill), "D"((long)pid), "S"((long)SIGUSR1)
                     : "rcx", "r11", "memory", "xmm15");
    *result = ret;
    return out;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== signal-fpstate\n");
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    check(sigaction(SIGUSR1, &action, NULL) == 0, "sigaction SIGUSR1");

    long result = -1;
    set_mxcsr(MXCSR_DEFAULT | ROUND_UP);
    uint64_t after = kill_around_xmm15(getpid(), 0xABCDEF, &result);
    unsigned mxcsr_after = get_mxcsr();
    set_mxcsr(MXCSR_DEFAULT);
    check(result == 0, "kill self");
    check(entry_mxcsr == MXCSR_DEFAULT, "the handler starts with MXCSR 0x1F80");
    check(entry_cw == 0x37F, "the handler starts with x87 control word 0x37F");
    check(entry_xmm15 == 0, "the handler starts with XMM15 zero");
    check((frame_mxcsr & ~FLAGS) == (MXCSR_DEFAULT | ROUND_UP), "the frame holds the program's MXCSR");
    check(frame_xmm15 == 0xABCDEF, "the frame holds the program's XMM15");
    check(after == 0xABCDEF, "XMM15 is the program's again after the handler");
    check((mxcsr_after & ~FLAGS) == (MXCSR_DEFAULT | ROUND_UP), "MXCSR is the program's again after the handler");

    rewrite = 1;
    set_mxcsr(MXCSR_DEFAULT | ROUND_UP);
    after = kill_around_xmm15(getpid(), 0xABCDEF, &result);
    mxcsr_after = get_mxcsr();
    set_mxcsr(MXCSR_DEFAULT);
    check(result == 0, "kill self again");
    check(after == 0x2222, "rt_sigreturn loads the XMM15 the handler wrote into the frame");
    check((mxcsr_after & ~FLAGS) == (MXCSR_DEFAULT | ROUND_DOWN), "rt_sigreturn loads the MXCSR the handler wrote into the frame");

    /* Many round trips: nothing drifts (the state is the same after the last as after the first). */
    rewrite = 0;
    int same = 1;
    for (int i = 0; i < 1000 && same; i++) {
        set_mxcsr(MXCSR_DEFAULT | ROUND_UP);
        after = kill_around_xmm15(getpid(), 0x1000 + (uint64_t)i, &result);
        same = result == 0 && after == 0x1000 + (uint64_t)i && (get_mxcsr() & ~FLAGS) == (MXCSR_DEFAULT | ROUND_UP);
        set_mxcsr(MXCSR_DEFAULT);
    }
    check(same, "1000 round trips keep the program's state");
    printf("failures: %d\n", failures);
    return failures != 0;
}
