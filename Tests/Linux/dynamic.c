/* dynamic: a dynamically linked program (linked without -static: PT_INTERP names Debian's
 * ld-linux-x86-64.so.2, which maps libc.so.6 from the root file system). It observes:
 *   - the dynamic linker and libc mapped (auxv's AT_BASE, /proc/self/maps by file name);
 *   - dlopen/dlsym of libm and zlib at run time (file-backed mmap of each library's segments),
 *     their functions' results, and dlopen's error for a library that does not exist;
 *   - a library's file mapped read-only equals its bytes read with pread, and a private write to
 *     it (after mprotect) stays in this mapping: a second mapping of the same pages, and the file,
 *     keep the original bytes (Aegis maps read-only file pages from one shared page cache);
 *   - libc's whole file mapped read-only (Aegis fills a large read-only map of an archive file on
 *     demand, 16 pages a fault): every byte equals the file's, the rest of the last page reads
 *     zero, a page made writable takes a private write the file does not see;
 *   - the same in a forked child, and an execve of this program from a child.
 * Every line is the same on any Linux with these libraries: no addresses, no versions. */
#include "difftest.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

/* Whether /proc/self/maps names a file whose last component is 'name' or 'name.VERSION' (the
   maps name the file a link such as libz.so.1 leads to: libz.so.1.2.13). */
static int mapped(const char *name)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps == NULL) return 0;
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, maps) != NULL) {
        line[strcspn(line, "\n")] = 0;
        const char *slash = strrchr(line, '/');
        size_t length = strlen(name);
        if (slash != NULL && strncmp(slash + 1, name, length) == 0 && (slash[1 + length] == 0 || slash[1 + length] == '.')) found = 1;
    }
    fclose(maps);
    return found;
}

static void libraries(const char *who)
{
    printf("%s:\n", who);
    void *libm = dlopen("libm.so.6", RTLD_NOW);
    dt_check(libm != NULL, "dlopen libm.so.6", "%s", dlerror());
    if (libm != NULL) {
        double (*cosine)(double) = (double (*)(double))dlsym(libm, "cos");
        double (*root)(double) = (double (*)(double))dlsym(libm, "sqrt");
        dt_check(cosine != NULL && root != NULL, "dlsym cos and sqrt", "%s", dlerror());
        if (cosine != NULL && root != NULL) printf("cos(0.5) %.9f, sqrt(2) %.9f\n", cosine(0.5), root(2.0));
    }
    void *libz = dlopen("libz.so.1", RTLD_NOW);
    dt_check(libz != NULL, "dlopen libz.so.1", "%s", dlerror());
    if (libz != NULL) {
        unsigned long (*crc)(unsigned long, const unsigned char *, unsigned) =
            (unsigned long (*)(unsigned long, const unsigned char *, unsigned))dlsym(libz, "crc32");
        dt_check(crc != NULL, "dlsym crc32", "%s", dlerror());
        if (crc != NULL) printf("crc32(\"hello\") %08lx\n", crc(0, (const unsigned char *)"hello", 5));
    }
    void *missing = dlopen("libno-such-library.so.1", RTLD_NOW);
    dt_check(missing == NULL && dlerror() != NULL, "dlopen of a missing library fails with an error", "%p", missing);
    dt_check(mapped("libm.so.6") && mapped("libz.so.1"), "the libraries are in /proc/self/maps", "libm %d libz %d", mapped("libm.so.6"), mapped("libz.so.1"));
}

/* libc's file mapped read-only at offset 8 KiB, 4 pages. */
static unsigned char *map_libc(int fd, int protection)
{
    void *at = mmap(NULL, 4 * 4096, protection, MAP_PRIVATE, fd, 8192);
    return at == MAP_FAILED ? NULL : at;
}

static void page_cache(void)
{
    int fd = open(LIBC, O_RDONLY);
    dt_check(fd >= 0, "open libc.so.6", "errno %s", dt_errno_name(errno));
    if (fd < 0) return;
    static unsigned char bytes[4 * 4096];
    dt_check(pread(fd, bytes, sizeof bytes, 8192) == (ssize_t)sizeof bytes, "pread 16 KiB of it", "errno %s", dt_errno_name(errno));
    unsigned char *first = map_libc(fd, PROT_READ);
    dt_check(first != NULL && memcmp(first, bytes, sizeof bytes) == 0, "a read-only mapping holds the file's bytes", "%p", (void *)first);
    if (first == NULL) return;
    dt_check(mprotect(first, 4096, PROT_READ | PROT_WRITE) == 0, "mprotect it writable (private)", "errno %s", dt_errno_name(errno));
    first[10] ^= 0xFF;
    unsigned char *second = map_libc(fd, PROT_READ);
    dt_check(second != NULL && second[10] == bytes[10], "a second mapping does not see the private write", "%p", (void *)second);
    dt_check(first[10] == (unsigned char)(bytes[10] ^ 0xFF), "the first mapping keeps it", "%02x", first[10]);
    unsigned char again;
    dt_check(pread(fd, &again, 1, 8192 + 10) == 1 && again == bytes[10], "the file keeps its byte", "%02x", again);
    munmap(first, 4 * 4096);
    if (second != NULL) munmap(second, 4 * 4096);
    close(fd);
}

/* libc's whole file mapped read-only (more than 32 pages: filled on demand on Aegis). */
static void whole_file(void)
{
    int fd = open(LIBC, O_RDONLY);
    dt_check(fd >= 0, "open libc.so.6 for a whole-file mapping", "errno %s", dt_errno_name(errno));
    if (fd < 0) return;
    off_t size = lseek(fd, 0, SEEK_END);
    unsigned char *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    dt_check(map != MAP_FAILED, "map libc whole, read-only", "errno %s", dt_errno_name(errno));
    if (map == MAP_FAILED) { close(fd); return; }
    static unsigned char chunk[65536];
    off_t probe = size / 2 & ~(off_t)4095;
    pid_t reader = fork();
    if (reader == 0)
        _exit(pread(fd, chunk, 4096, probe) == 4096 && memcmp(map + probe, chunk, 4096) == 0 ? 0 : 1);
    int status = -1;
    dt_check(reader > 0 && waitpid(reader, &status, 0) == reader && WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "a child forked before any page was read sees the file's bytes", "status 0x%x", status);
    int same = 1;
    for (off_t at = 0; at < size; at += (off_t)sizeof chunk) {
        size_t want = size - at < (off_t)sizeof chunk ? (size_t)(size - at) : sizeof chunk;
        if (pread(fd, chunk, want, at) != (ssize_t)want || memcmp(map + at, chunk, want) != 0) { same = 0; break; }
    }
    dt_check(same, "every byte of the mapping is the file's", "differs");
    size_t tail = (size_t)size % 4096;
    int zero = 1;
    if (tail != 0)
        for (size_t i = (size_t)size; i < (size_t)size + (4096 - tail); i++) zero &= map[i] == 0;
    dt_check(zero, "the last page reads zero past the file's end", "not zero");
    unsigned char *page = map + 40 * 4096;
    unsigned char original = page[7];
    dt_check(mprotect(page, 4096, PROT_READ | PROT_WRITE) == 0, "a page of it made writable", "errno %s", dt_errno_name(errno));
    page[7] ^= 0x5A;
    unsigned char again = 0;
    dt_check(pread(fd, &again, 1, 40 * 4096 + 7) == 1 && again == original && page[7] == (unsigned char)(original ^ 0x5A),
             "a private write there stays in the mapping", "file %02x map %02x", again, page[7]);
    /* A second whole map, moved by mremap before any page of it was read (Aegis fills a lazy
       map whole first, then moves it): it still holds the file's bytes. */
    unsigned char *fresh = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    unsigned char *moved = fresh == MAP_FAILED ? MAP_FAILED : mremap(fresh, (size_t)size, (size_t)size, MREMAP_MAYMOVE | MREMAP_FIXED, map);
    int moved_same = moved != MAP_FAILED;
    for (off_t at = 0; moved_same && at < size; at += (off_t)sizeof chunk) {
        size_t want = size - at < (off_t)sizeof chunk ? (size_t)(size - at) : sizeof chunk;
        moved_same = pread(fd, chunk, want, at) == (ssize_t)want && memcmp(moved + at, chunk, want) == 0;
    }
    dt_check(moved_same, "a whole map moved by mremap before it was read holds the file's bytes", "errno %s", dt_errno_name(errno));
    munmap(moved == MAP_FAILED ? map : moved, (size_t)size);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "exec") == 0) {
        printf("exec'd: AT_BASE %s, libc mapped %s\n", getauxval(AT_BASE) != 0 ? "set" : "zero", mapped("libc.so.6") ? "yes" : "no");
        return 5;
    }
    dt_start("dynamic");
    dt_check(getauxval(AT_BASE) != 0, "AT_BASE gives the dynamic linker's address", "0");
    dt_check(mapped("ld-linux-x86-64.so.2") && mapped("libc.so.6"), "the dynamic linker and libc are in /proc/self/maps", "ld %d libc %d",
             mapped("ld-linux-x86-64.so.2"), mapped("libc.so.6"));
    libraries("parent");
    page_cache();
    whole_file();
    fflush(stdout);

    int before = dt_failures;
    pid_t child = fork();
    if (child == 0) {
        libraries("forked child");
        page_cache();
        whole_file();
        fflush(stdout);
        _exit(dt_failures == before ? 0 : 1);
    }
    int status = 0;
    int waited = child > 0 && waitpid(child, &status, 0) == child;
    dt_check(waited && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the forked child passed", "status 0x%x", status);

    child = fork();
    if (child == 0) {
        char *arguments[] = {argv[0], "exec", NULL};
        char *environment[] = {NULL};
        execve(argv[0], arguments, environment);
        _exit(127);
    }
    waited = child > 0 && waitpid(child, &status, 0) == child;
    dt_check(waited && WIFEXITED(status) && WEXITSTATUS(status) == 5, "the exec'd child ended with 5", "status 0x%x", status);
    return dt_finish();
}
