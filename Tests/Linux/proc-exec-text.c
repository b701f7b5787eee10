/* proc-exec-text: a program's text after execve is private to the process, as a private file
 * mapping on Linux. (On Aegis an exec in a forked process maps the read-only pages of the
 * program straight from the root archive's frames, shared by every process running it: this is
 * the test that such sharing never leaks a write.) The parent forks three children that execve
 * this program again:
 *   "patch": makes the page holding answer() writable (mprotect), changes the constant answer()
 *            returns from 42 to 43 in its code, and exits with what answer() now returns;
 *   "check": run after the patch, exits with what answer() returns (its own text: 42);
 *   "write": writes to its text without mprotect: SIGSEGV (its handler exits 77).
 * The parent's own answer() stays 42 too. Then the same in forked children that do not exec (their
 * text is the parent's frames, shared copy-on-write): one patches after mprotect (43, the
 * parent's stays 42), one writes without mprotect (SIGSEGV). */
#include "difftest.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* noipa: the call really runs this code (no constant propagated to the callers). */
__attribute__((noipa)) static int answer(void) { return 42; }

static void on_segv(int signal)
{
    (void)signal;
    _exit(77);
}

/* The immediate of answer's "mov $42, %eax" (b8 2a 00 00 00), or NULL. */
static unsigned char *immediate(void)
{
    unsigned char *code = (unsigned char *)(uintptr_t)answer;
    for (int i = 0; i < 16; i++)
        if (code[i] == 0xb8 && code[i + 1] == 42 && code[i + 2] == 0 && code[i + 3] == 0 && code[i + 4] == 0)
            return code + i + 1;
    return NULL;
}

/* A forked child (no exec) running mode's code; its status as run() gives it. */
static int forked(int (*body)(void))
{
    pid_t child = fork();
    if (child == 0) _exit(body());
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return -1;
    if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static int patch(void)
{
    unsigned char *at = immediate();
    if (at == NULL) return 100;
    uintptr_t page = (uintptr_t)at & ~(uintptr_t)4095;
    /* The instruction may straddle a page boundary: both pages. */
    if (mprotect((void *)page, 8192, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) return 101;
    *(volatile unsigned char *)at = 43;
    return answer();
}

static int write_text(void)
{
    signal(SIGSEGV, on_segv);
    unsigned char *at = immediate();
    if (at == NULL) return 100;
    *(volatile unsigned char *)at = 44;
    return answer();
}

/* A page of read-only data made PROT_NONE and readable again keeps its bytes. */
static const unsigned char table[3 * 4096] = {[0 ... 3 * 4096 - 1] = 9};

static int hide_and_show(void)
{
    uintptr_t page = ((uintptr_t)table + 4095) & ~(uintptr_t)4095;
    if (mprotect((void *)page, 4096, PROT_NONE) != 0) return 110;
    if (mprotect((void *)page, 4096, PROT_READ) != 0) return 111;
    return *(volatile unsigned char *)page;
}

static int run(const char *self, const char *mode)
{
    pid_t child = fork();
    if (child == 0) {
        char *arguments[] = {(char *)self, (char *)mode, NULL};
        char *environment[] = {NULL};
        execve(self, arguments, environment);
        _exit(127);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return -1;
    if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "patch") == 0) return patch();
    if (argc == 2 && strcmp(argv[1], "check") == 0) return answer();
    if (argc == 2 && strcmp(argv[1], "hide") == 0) return hide_and_show();
    if (argc == 2 && strcmp(argv[1], "write") == 0) return write_text();
    dt_start("proc-exec-text");
    dt_check(immediate() != NULL, "the code is found", "no mov $42, %%eax in answer()");
    int patched = run(argv[0], "patch");
    dt_check(patched == 43, "a child patches its own text", "status %d", patched);
    int checked = run(argv[0], "check");
    dt_check(checked == 42, "the next exec runs the file's text", "status %d", checked);
    int written = run(argv[0], "write");
    dt_check(written == 77, "a write to text without mprotect is SIGSEGV", "status %d", written);
    dt_check(answer() == 42, "the parent's text is unchanged", "answer() %d", answer());
    int hidden = run(argv[0], "hide");
    dt_check(hidden == 9, "read-only data made PROT_NONE and readable again keeps its bytes", "status %d", hidden);
    int forked_hidden = forked(hide_and_show);
    dt_check(forked_hidden == 9, "the same in a forked child", "status %d", forked_hidden);
    int forked_patch = forked(patch);
    dt_check(forked_patch == 43, "a forked child patches its own copy of the text", "status %d", forked_patch);
    dt_check(answer() == 42, "the parent's text is unchanged by its child", "answer() %d", answer());
    int forked_write = forked(write_text);
    dt_check(forked_write == 77, "a forked child's write to text without mprotect is SIGSEGV", "status %d", forked_write);
    return dt_finish();
}
