/* core-segv: writes into a read-only page; without a handler the program dies of SIGSEGV
 * (a shell shows status 139). Prints one line before. */
// Linked static (LinuxCoreTests: the static programs of the personality's core; tools/rootfs/build-program.sh):
// aegis-link: static
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    volatile char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("writing into a read-only page\n");
    page[10] = 1;
    printf("still alive: WRONG\n");
    return 0;
}
