/* brk: the program break through the raw system call (as libc's malloc uses it). brk(0) gives
 * the current break (page-aligned or not, it is after the program's data); growing it by
 * 64 KiB returns the new break and the memory reads as zero and is writable; shrinking it
 * back returns the old break; a request below the program's data is refused (the break stays).
 * Then malloc of large and small blocks works. Exit status 0 when every check passed. */
#include "difftest.h"
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char end[];

int main(void)
{
    dt_start("brk");
    uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
    dt_check(start >= (uintptr_t)end, "brk(0) is at or after the end of the data", "before it");
    uintptr_t again = (uintptr_t)syscall(SYS_brk, 0);
    dt_check(again == start, "brk(0) twice gives the same break", "moved by %ld", (long)(again - start));

    uintptr_t grown = (uintptr_t)syscall(SYS_brk, start + 65536);
    dt_check(grown == start + 65536, "brk grows by 64 KiB", "moved by %ld", (long)(grown - start));
    int zero = 1;
    for (uintptr_t p = start; p < start + 65536; p++)
        if (*(volatile char *)p != 0)
            zero = 0;
    dt_check(zero, "the new memory reads as zero", "a non-zero byte");
    memset((void *)start, 0x33, 65536);
    dt_check(*(volatile char *)(start + 65535) == 0x33, "the new memory is writable", "read back differs");

    uintptr_t shrunk = (uintptr_t)syscall(SYS_brk, start + 4096);
    dt_check(shrunk == start + 4096, "brk shrinks", "moved by %ld", (long)(shrunk - start));
    uintptr_t regrown = (uintptr_t)syscall(SYS_brk, start + 3 * 4096);
    dt_check(regrown == start + 3 * 4096, "brk grows again", "moved by %ld", (long)(regrown - start));
    int rezero = 1;
    for (uintptr_t p = start + 8192; p < start + 3 * 4096; p++)
        if (*(volatile char *)p != 0)
            rezero = 0;
    dt_check(rezero, "memory given back and taken again reads as zero", "a non-zero byte");

    uintptr_t refused = (uintptr_t)syscall(SYS_brk, 4096);
    dt_check(refused == start + 3 * 4096, "a break below the data is refused", "moved by %ld", (long)(refused - start));
    uintptr_t back = (uintptr_t)syscall(SYS_brk, start);
    dt_check(back == start, "brk returns to the start", "moved by %ld", (long)(back - start));

    char *big = malloc(1 << 20);
    char *small = malloc(100);
    dt_check(big != NULL && small != NULL, "malloc 1 MiB and 100 bytes", "NULL");
    if (big != NULL && small != NULL) {
        memset(big, 1, 1 << 20);
        memset(small, 2, 100);
        dt_check(big[(1 << 20) - 1] == 1 && small[99] == 2, "malloc'd memory is usable", "read back differs");
    }
    free(big);
    free(small);
    return dt_finish();
}
