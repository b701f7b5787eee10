/* mmap: anonymous memory semantics. Fresh anonymous pages read as zero; a write to a page
 * made read-only by mprotect raises SIGSEGV (SEGV_ACCERR, si_addr the written byte) whose
 * handler makes the page writable again and returns, so the write is retried and lands; an
 * access to an unmapped page raises SIGSEGV (SEGV_MAPERR) and the handler maps a page there;
 * munmap of one page in the middle leaves its neighbours; mremap grows a mapping keeping its
 * contents; after fork a MAP_SHARED page written by the child shows the write in the parent and
 * a MAP_PRIVATE page does not. Bad arguments: EINVAL. Exit status 0 when every check passed. */
#include "difftest.h"
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static volatile int faults;
static volatile int fault_code;
static char *volatile fault_address;
static char *volatile repair_page;
static volatile int repair_by_map;

static void on_segv(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    (void)context;
    faults++;
    fault_code = info->si_code;
    fault_address = info->si_addr;
    char *page = (char *)((uintptr_t)info->si_addr & ~(uintptr_t)(PAGE - 1));
    if (page != repair_page)
        _exit(3); /* not the fault this program provoked */
    if (repair_by_map)
        mmap(page, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    else
        mprotect(page, PAGE, PROT_READ | PROT_WRITE);
}

static int all_zero(const char *p, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

int main(void)
{
    dt_start("mmap");
    struct sigaction action = {0};
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, NULL);

    char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    dt_check(p != MAP_FAILED, "mmap 4 anonymous pages", "%s", dt_errno_name(errno));
    if (p == MAP_FAILED)
        return dt_finish();
    dt_check(((uintptr_t)p & (PAGE - 1)) == 0, "the mapping is page aligned", "misaligned");
    dt_check(all_zero(p, 4 * PAGE), "anonymous memory reads as zero", "a non-zero byte");
    memset(p, 0x5a, 4 * PAGE);

    DT_EXPECT_OK(mprotect(p + PAGE, PAGE, PROT_READ), "mprotect page 1 read-only");
    dt_check(p[PAGE + 10] == 0x5a, "a read-only page is still readable", "read 0x%x", p[PAGE + 10]);
    repair_page = p + PAGE;
    repair_by_map = 0;
    faults = 0;
    *(volatile char *)(p + PAGE + 100) = 7; /* volatile: the fault happens here, in order */
    dt_check(faults == 1, "a write to the read-only page faults once", "%d faults", faults);
    dt_check(fault_code == SEGV_ACCERR, "si_code is SEGV_ACCERR", "si_code %d", fault_code);
    dt_check(fault_address == p + PAGE + 100, "si_addr is the written byte", "at offset %ld", (long)(fault_address - p));
    dt_check(p[PAGE + 100] == 7, "the write landed after the repair", "read %d", p[PAGE + 100]);

    DT_EXPECT_OK(munmap(p + 2 * PAGE, PAGE), "munmap page 2");
    dt_check(p[PAGE] == 0x5a && p[3 * PAGE] == 0x5a, "the neighbours of an unmapped page stay", "changed");
    repair_page = p + 2 * PAGE;
    repair_by_map = 1;
    faults = 0;
    char value = *(volatile char *)(p + 2 * PAGE + 8);
    dt_check(faults == 1, "a read of the unmapped page faults once", "%d faults", faults);
    dt_check(fault_code == SEGV_MAPERR, "si_code is SEGV_MAPERR", "si_code %d", fault_code);
    dt_check(value == 0, "the page mapped by the handler reads as zero", "read %d", value);

    char *grown = mremap(p, 4 * PAGE, 16 * PAGE, MREMAP_MAYMOVE);
    dt_check(grown != MAP_FAILED, "mremap grows the mapping to 16 pages", "%s", dt_errno_name(errno));
    if (grown != MAP_FAILED) {
        dt_check(grown[0] == 0x5a && grown[PAGE + 100] == 7 && grown[3 * PAGE + 5] == 0x5a, "mremap keeps the contents", "changed");
        dt_check(all_zero(grown + 4 * PAGE, 12 * PAGE), "the grown part reads as zero", "a non-zero byte");
        grown[16 * PAGE - 1] = 1;
        char *shrunk = mremap(grown, 16 * PAGE, 2 * PAGE, 0);
        dt_check(shrunk == grown, "mremap shrinks in place", "moved or failed");
        DT_EXPECT_OK(munmap(grown, 2 * PAGE), "munmap the rest");
    }

    DT_EXPECT_ERRNO((long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL, "mmap of length 0 gives EINVAL");
    DT_EXPECT_ERRNO(munmap(p + 1, PAGE), EINVAL, "munmap of an unaligned address gives EINVAL");
    DT_EXPECT_ERRNO(mprotect(p + 1, PAGE, PROT_READ), EINVAL, "mprotect of an unaligned address gives EINVAL");

    char *shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *private = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    dt_check(shared != MAP_FAILED && private != MAP_FAILED, "mmap a shared and a private page", "%s", dt_errno_name(errno));
    if (shared != MAP_FAILED && private != MAP_FAILED) {
        shared[0] = 1;
        private[0] = 1;
        pid_t child = fork();
        if (child == 0) {
            shared[0] = 2;
            private[0] = 2;
            _exit(0);
        }
        int status = 0;
        waitpid(child, &status, 0);
        dt_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child exits 0", "status 0x%x", status);
        dt_check(shared[0] == 2, "the child's write to MAP_SHARED is seen", "read %d", shared[0]);
        dt_check(private[0] == 1, "the child's write to MAP_PRIVATE is not seen", "read %d", private[0]);
    }
    return dt_finish();
}
