/* dents: getdents64 of the root directory, printing facts that hold on any Linux root: "." and
 * ".." are there, "tmp" and "etc" are directories (d_type DT_DIR), every record is 8-byte
 * aligned and its name NUL-terminated within the record, reading with a 64-byte buffer gives
 * the same set of names as one 32 KiB read, lseek(fd, 0, SEEK_SET) rewinds. Errors: a buffer too
 * small for one record gives EINVAL, a regular file ENOTDIR, a closed descriptor EBADF.
 * Exit status 0 when every check passed. */
#include "difftest.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static char names[2][8192];
static int dots, dotdot, tmp_dir, etc_dir, well_formed = 1;

/* Reads the whole directory with reads of `size` bytes; collects "name\n" into names[which]. */
static int read_all(int fd, size_t size, int which)
{
    static char buffer[32768] __attribute__((aligned(8)));
    size_t used = 0;
    int count = 0;
    names[which][0] = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buffer, size);
        if (n < 0)
            return -1;
        if (n == 0)
            return count;
        for (long offset = 0; offset < n;) {
            struct linux_dirent64 *entry = (struct linux_dirent64 *)(buffer + offset);
            if (entry->d_reclen % 8 != 0 || entry->d_reclen < 20 || offset + entry->d_reclen > n ||
                strnlen(entry->d_name, entry->d_reclen - 19) >= (size_t)(entry->d_reclen - 19))
                well_formed = 0;
            if (which == 0) {
                if (strcmp(entry->d_name, ".") == 0) dots++;
                if (strcmp(entry->d_name, "..") == 0) dotdot++;
                if (strcmp(entry->d_name, "tmp") == 0 && entry->d_type == DT_DIR) tmp_dir++;
                if (strcmp(entry->d_name, "etc") == 0 && entry->d_type == DT_DIR) etc_dir++;
            }
            size_t length = strlen(entry->d_name);
            if (used + length + 2 < sizeof names[which]) {
                memcpy(names[which] + used, entry->d_name, length);
                names[which][used + length] = '\n';
                used += length + 1;
                names[which][used] = 0;
            }
            count++;
            if (entry->d_reclen == 0)
                return -1;
            offset += entry->d_reclen;
        }
    }
}

int main(void)
{
    dt_start("dents");
    int fd = DT_EXPECT_OK(open("/", O_RDONLY | O_DIRECTORY), "open /");
    int small = read_all(fd, 64, 0);
    dt_check(small > 4, "getdents64 with a 64-byte buffer reads the root", "got %d", small);
    dt_check(dots == 1 && dotdot == 1, "'.' and '..' appear once each", "%d and %d", dots, dotdot);
    dt_check(tmp_dir == 1, "tmp is a directory (DT_DIR)", "missing or another type");
    dt_check(etc_dir == 1, "etc is a directory (DT_DIR)", "missing or another type");
    dt_check(well_formed, "every record is aligned and its name terminated", "a malformed record");
    DT_EXPECT_OK(lseek(fd, 0, SEEK_SET), "rewind with lseek");
    int large = read_all(fd, 32768, 1);
    dt_check(large == small && strcmp(names[0], names[1]) == 0, "one large read gives the same names", "%d vs %d entries", large, small);
    char tiny[8];
    DT_EXPECT_OK(lseek(fd, 0, SEEK_SET), "rewind again");
    DT_EXPECT_ERRNO(syscall(SYS_getdents64, fd, tiny, sizeof tiny), EINVAL, "a buffer too small for a record gives EINVAL");
    close(fd);
    int file = DT_EXPECT_OK(open("/etc/passwd", O_RDONLY), "open /etc/passwd");
    DT_EXPECT_ERRNO(syscall(SYS_getdents64, file, tiny, sizeof tiny), ENOTDIR, "getdents64 of a file gives ENOTDIR");
    close(file);
    DT_EXPECT_ERRNO(syscall(SYS_getdents64, fd, tiny, sizeof tiny), EBADF, "getdents64 of a closed descriptor gives EBADF");
    return dt_finish();
}
