/* mremap-cow: mremap moves pages a process shares with others (after fork, pages shared
 * copy-on-write with the parent; after an exec in a forked process, on Aegis, read-only program
 * pages mapped from the root archive's frames) with their bytes, and they stay private:
 *   "anon" (a forked child): moves 4 anonymous pages its parent filled to a fixed place, growing
 *          them to 8: the 4 keep their bytes, the new 4 are zero; a write there is its own;
 *   "rodata" (an exec'd child, and a forked one): moves a page of read-only data elsewhere: it
 *          reads the same, mprotect makes it writable, a write there is private; the old
 *          address is gone (SIGSEGV).
 * The parent's pages are unchanged by its children, and it moves its own pages too. */
#include "difftest.h"
#include <setjmp.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
static const unsigned char table[4 * PAGE] = {[0 ... 4 * PAGE - 1] = 7};
static unsigned char *anon;
static sigjmp_buf back;

static void on_segv(int signal)
{
    (void)signal;
    siglongjmp(back, 1);
}

/* A fresh place for length bytes (reserved, then replaced by MREMAP_FIXED). */
static void *place(size_t length)
{
    void *at = mmap(NULL, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return at == MAP_FAILED ? NULL : at;
}

/* 0 when every check passed, else the number of the first that failed. */
static int move_anon(unsigned char value)
{
    unsigned char *to = place(8 * PAGE);
    if (to == NULL) return 10;
    unsigned char *moved = mremap(anon, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    if (moved != to) return 11;
    for (int i = 0; i < 4 * PAGE; i++)
        if (moved[i] != value) return 12;
    for (int i = 4 * PAGE; i < 8 * PAGE; i++)
        if (moved[i] != 0) return 13;
    moved[0] = 99;
    moved[5 * PAGE] = 98;
    if (moved[0] != 99 || moved[5 * PAGE] != 98) return 14;
    anon = moved;
    return 0;
}

static int move_rodata(void)
{
    uintptr_t page = ((uintptr_t)table + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
    unsigned char *to = place(PAGE);
    if (to == NULL) return 20;
    unsigned char *moved = mremap((void *)page, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    if (moved != to) return 21;
    if (((volatile unsigned char *)moved)[100] != 7) return 22;
    if (mprotect(moved, PAGE, PROT_READ | PROT_WRITE) != 0) return 23;
    moved[100] = 8;
    if (moved[100] != 8 || moved[101] != 7) return 24;
    signal(SIGSEGV, on_segv);
    if (sigsetjmp(back, 1) == 0) {
        (void)((volatile unsigned char *)page)[100];
        return 25; /* the old address still reads */
    }
    return 0;
}

static int status_of(pid_t child)
{
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return -1;
    if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "rodata") == 0) return move_rodata();
    dt_start("mremap-cow");
    anon = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    dt_check(anon != MAP_FAILED, "mmap 4 pages", "errno %s", dt_errno_name(errno));
    memset(anon, 5, 4 * PAGE);

    pid_t child = fork();
    if (child == 0) _exit(move_anon(5));
    int moved = status_of(child);
    dt_check(moved == 0, "a forked child moves and grows pages it shares with its parent", "check %d", moved);
    int same = 1;
    for (int i = 0; i < 4 * PAGE; i++) same &= anon[i] == 5;
    dt_check(same, "the parent's pages are unchanged", "a byte differs");

    child = fork();
    if (child == 0) {
        char *arguments[] = {argv[0], "rodata", NULL};
        char *environment[] = {NULL};
        execve(argv[0], arguments, environment);
        _exit(127);
    }
    moved = status_of(child);
    dt_check(moved == 0, "an exec'd child moves a page of its read-only data", "check %d", moved);
    child = fork();
    if (child == 0) _exit(move_rodata());
    moved = status_of(child);
    dt_check(moved == 0, "a forked child moves a page of its read-only data", "check %d", moved);
    dt_check(table[PAGE + 100] == 7, "the parent's read-only data is unchanged", "byte %d", table[PAGE + 100]);

    child = fork();
    if (child == 0) { pause(); _exit(0); } /* holds the pages shared while the parent moves its own */
    moved = move_anon(5);
    dt_check(moved == 0, "the parent moves its pages while a child shares them", "check %d", moved);
    kill(child, SIGKILL);
    int killed = status_of(child);
    dt_check(killed == 1000 + SIGKILL, "the child is killed", "status %d", killed);
    return dt_finish();
}
