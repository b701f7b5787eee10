/* core-memory: mmap, munmap, mprotect, madvise, mremap and brk semantics, observed without
 * taking a fault (signals are not offered yet): through the calls' results, the memory's
 * contents, and the kernel's EFAULT when a call is handed memory it may not use. Every line is
 * the same on Linux and on Aegis; exit status 0 when every check holds. */
// Linked static (LinuxCoreTests: the static programs of the personality's core (brk right after static data); tools/rootfs/build-program.sh):
// aegis-link: static
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failures++;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const size_t page = 4096;

    unsigned char *a = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(a != MAP_FAILED && ((uintptr_t)a & (page - 1)) == 0, "mmap anonymous gives a page-aligned address");
    check(all_zero(a, 3 * page), "anonymous memory starts zeroed");
    memset(a, 0x5A, 3 * page);
    check(munmap(a + page, page) == 0, "munmap of the middle page");
    errno = 0;
    check(write(1, a + page, 1) == -1 && errno == EFAULT, "write from an unmapped page is EFAULT");
    check(a[0] == 0x5A && a[2 * page] == 0x5A, "the pages around it are untouched");
    check(mprotect(a + page, page, PROT_READ) == -1 && errno == ENOMEM, "mprotect of an unmapped range is ENOMEM");

    check(mprotect(a, page, PROT_READ) == 0, "mprotect read-only");
    errno = 0;
    check(getrandom(a, 8, 0) == -1 && errno == EFAULT, "a call writing into read-only memory is EFAULT");
    check(mprotect(a, page, PROT_NONE) == 0 && mprotect(a, page, PROT_READ | PROT_WRITE) == 0, "PROT_NONE and back");
    check(a[0] == 0x5A && a[page - 1] == 0x5A, "contents survive PROT_NONE");

    check(madvise(a + 2 * page, page, MADV_DONTNEED) == 0, "madvise MADV_DONTNEED");
    check(all_zero(a + 2 * page, page), "private anonymous memory reads zero after MADV_DONTNEED");

    void *taken = mmap(a, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    check(taken == MAP_FAILED && errno == EEXIST, "MAP_FIXED_NOREPLACE over a mapping is EEXIST");
    unsigned char *fixed = mmap(a, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    check(fixed == a && all_zero(a, page), "MAP_FIXED replaces a mapping with fresh zeroed memory");
    check(munmap(a, 3 * page) == 0, "munmap over a hole is fine");

    errno = 0;
    check(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL, "mmap of length 0 is EINVAL");
    check(mmap(NULL, page, PROT_READ, MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL, "mmap without MAP_PRIVATE or MAP_SHARED is EINVAL");
    check(munmap((void *)((uintptr_t)fixed + 1), page) == -1 && errno == EINVAL, "munmap of an unaligned address is EINVAL");

    unsigned char *hint = mmap((void *)0x20000000000ULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(hint != MAP_FAILED, "mmap with a hint succeeds");
    munmap(hint, page);

    size_t big = 64u << 20;
    unsigned char *large = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(large != MAP_FAILED, "a 64 MiB anonymous mapping");
    check(large[0] == 0 && large[big / 2] == 0 && large[big - 1] == 0, "its far pages read zero");
    large[big - 1] = 1;
    large[12345] = 2;
    unsigned char *grown = mremap(large, big, 2 * big, MREMAP_MAYMOVE);
    check(grown != MAP_FAILED && grown[big - 1] == 1 && grown[12345] == 2, "mremap grows it keeping its contents");
    check(grown[2 * big - 1] == 0, "the grown part reads zero");
    unsigned char *shrunk = mremap(grown, 2 * big, page, 0);
    check(shrunk == grown, "mremap shrinks in place");
    check(munmap(shrunk, page) == 0, "munmap of the rest");

    unsigned char *base = sbrk(0);
    check(base != (void *)-1, "sbrk(0) gives the break");
    check(brk(base + 65536) == 0 && sbrk(0) == base + 65536, "brk grows the heap");
    check(all_zero(base, 65536), "new heap memory is zeroed");
    memset(base, 7, 65536);
    check(brk(base) == 0 && sbrk(0) == base, "brk shrinks it again");
    check(brk(base + 4096) == 0 && all_zero(base, 4096), "memory given back and taken again is zeroed");

    printf("memory: %s\n", failures == 0 ? "all ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
