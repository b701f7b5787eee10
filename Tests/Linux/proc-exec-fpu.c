/* proc-exec-fpu: execve starts the new program with the FPU's initial state, as Linux does
 * (MXCSR 0x1f80, x87 control word 0x037f, the vector registers zero), while fork keeps the
 * parent's. The parent sets a non-default MXCSR (round toward zero, flush-to-zero), x87 control
 * word (round toward zero) and a pattern in xmm15, then:
 *   - a forked child (no exec) prints what it has: the parent's settings;
 *   - a forked child sets the pattern again and calls execve directly (no library code between
 *     the pattern and the system call); the new program prints its state at main.
 * Nothing here depends on an address or a time. */
// Linked static (the FPU state "at main" must be the one execve gave: no dynamic linker runs in between; tools/rootfs/build-program.sh):
// aegis-link: static
#include "difftest.h"
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned read_mxcsr(void)
{
    unsigned value;
    __asm__ volatile("stmxcsr %0" : "=m"(value));
    return value;
}

static unsigned read_fcw(void)
{
    unsigned short value;
    __asm__ volatile("fnstcw %0" : "=m"(value));
    return value;
}

static uint64_t read_xmm15(void)
{
    uint64_t value;
    __asm__ volatile("movq %%xmm15, %0" : "=r"(value));
    return value;
}

static void set_state(void)
{
    unsigned mxcsr = 0x1f80 | 0x6000 | 0x8000; /* masked, round toward zero, flush-to-zero */
    unsigned short fcw = 0x037f | 0x0c00;      /* round toward zero */
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
    __asm__ volatile("fldcw %0" : : "m"(fcw));
}

static void report(const char *who)
{
    printf("%s: mxcsr 0x%04x, fcw 0x%04x\n", who, read_mxcsr(), read_fcw());
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "execed") == 0) {
        uint64_t xmm15 = read_xmm15();
        report("after execve");
        printf("after execve: xmm15 %s\n", xmm15 == 0 ? "zero" : "not zero");
        return 0;
    }
    dt_start("proc-exec-fpu");
    set_state();
    report("parent");

    pid_t child = fork();
    if (child == 0) {
        report("forked child");
        _exit(0);
    }
    int status = 0;
    dt_check(child > 0 && waitpid(child, &status, 0) == child && status == 0, "the forked child ends", "status 0x%x", status);

    fflush(stdout);
    child = fork();
    if (child == 0) {
        char *arguments[] = {argv[0], "execed", NULL};
        char *environment[] = {NULL};
        uint64_t pattern = 0x0123456789abcdefULL;
        long result;
        /* The pattern in xmm15, then execve at once: nothing runs in between that could clear it. */
        __asm__ volatile("movq %1, %%xmm15\n\t"
                         "syscall"
                         : "=a"(result)
                         : "r"(pattern), "a"((long)SYS_execve), "D"(argv[0]), "S"(arguments), "d"(environment)
                         : "rcx", "r11", "memory", "xmm15");
        _exit(127);
    }
    status = 0;
    int waited = waitpid(child, &status, 0) == child;
    /* The exec'd program printed its own marker; the parent's lines go on after it. */
    dt_check(waited && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the exec'd child ends with 0", "status 0x%x", status);
    report("parent again");
    return dt_finish();
}
