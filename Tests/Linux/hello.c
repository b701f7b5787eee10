/* hello: the process as the loader starts it (System V x86-64 ABI). Prints its arguments
 * (argv[0] by its last path component), then facts about envp and the auxiliary vector:
 * envp follows argv's NULL, AT_PAGESZ is 4096, AT_RANDOM points at 16 readable bytes,
 * AT_PHDR/AT_PHNUM describe this program's own headers (a PT_LOAD among them), AT_ENTRY is
 * _start, AT_HWCAP is present. Exit status 0 when every fact holds, 1 otherwise. */
#include "difftest.h"
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>

extern char _start[];

int main(int argc, char **argv, char **envp)
{
    dt_start("hello");
    const char *slash = strrchr(argv[0], '/');
    printf("argc: %d\n", argc);
    printf("argv[0] name: %s\n", slash != NULL ? slash + 1 : argv[0]);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]: '%s'\n", i, argv[i]);
    dt_check(argv[argc] == NULL, "argv is NULL-terminated", "argv[argc] is not NULL");
    dt_check(envp == argv + argc + 1, "envp follows argv", "envp is not right after argv's NULL");

    char **end = envp;
    while (*end != NULL)
        end++;
    Elf64_auxv_t *auxv = (Elf64_auxv_t *)(end + 1);
    int seen_pagesz = 0, seen_random = 0, seen_phdr = 0, seen_phnum = 0, seen_entry = 0, seen_hwcap = 0;
    uint64_t pagesz = 0, random = 0, phdr = 0, phnum = 0, entry = 0;
    for (Elf64_auxv_t *a = auxv; a->a_type != AT_NULL; a++) {
        switch (a->a_type) {
        case AT_PAGESZ: seen_pagesz = 1; pagesz = a->a_un.a_val; break;
        case AT_RANDOM: seen_random = 1; random = a->a_un.a_val; break;
        case AT_PHDR: seen_phdr = 1; phdr = a->a_un.a_val; break;
        case AT_PHNUM: seen_phnum = 1; phnum = a->a_un.a_val; break;
        case AT_ENTRY: seen_entry = 1; entry = a->a_un.a_val; break;
        case AT_HWCAP: seen_hwcap = 1; break;
        }
    }
    dt_check(seen_pagesz && pagesz == 4096, "AT_PAGESZ is 4096", "present %d, value %lu", seen_pagesz, (unsigned long)pagesz);
    dt_check(getauxval(AT_PAGESZ) == 4096, "getauxval(AT_PAGESZ) is 4096", "got %lu", getauxval(AT_PAGESZ));
    int random_readable = 0;
    if (seen_random && random != 0) {
        const volatile unsigned char *bytes = (const volatile unsigned char *)random;
        unsigned sum = 0;
        for (int i = 0; i < 16; i++)
            sum += bytes[i];
        random_readable = 1;
        (void)sum;
    }
    dt_check(random_readable, "AT_RANDOM gives 16 readable bytes", "present %d", seen_random);
    int has_load = 0;
    if (seen_phdr && seen_phnum) {
        const Elf64_Phdr *headers = (const Elf64_Phdr *)phdr;
        for (uint64_t i = 0; i < phnum; i++)
            if (headers[i].p_type == PT_LOAD)
                has_load = 1;
    }
    dt_check(seen_phdr && seen_phnum && phnum > 0 && has_load, "AT_PHDR and AT_PHNUM describe a PT_LOAD",
             "AT_PHDR %d, AT_PHNUM %d (%lu), PT_LOAD %d", seen_phdr, seen_phnum, (unsigned long)phnum, has_load);
    dt_check(seen_entry && entry == (uint64_t)(uintptr_t)_start, "AT_ENTRY is _start", "present %d", seen_entry);
    dt_check(seen_hwcap, "AT_HWCAP is present", "missing");
    long stack_word = 0;
    dt_check(((uintptr_t)&stack_word & 7) == 0, "the stack is aligned", "misaligned local");
    return dt_finish();
}
