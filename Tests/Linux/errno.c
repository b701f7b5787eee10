/* errno: Linux's error numbers for bad requests, through libc and through raw system calls.
 * ENOENT (a missing file, a missing directory in a path), ENOTDIR, EISDIR, EBADF, EFAULT (bad
 * pointers given to write, read, open, stat and clock_gettime: the call fails, the process
 * lives), EINVAL (bad whence, bad flags), ENOSYS (an unassigned system-call number), ESPIPE
 * (lseek on a pipe), ENAMETOOLONG (no EACCES: the one user is root). Prints the
 * raw return values, so the kernel's -errno convention is checked as well. Exit status 0 when
 * every check passed. */
#include "difftest.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BAD ((void *)1)

int main(void)
{
    dt_start("errno");
    DT_EXPECT_ERRNO(open("/no/such/file", O_RDONLY), ENOENT, "open of a missing file gives ENOENT");
    DT_EXPECT_ERRNO(open("/etc/no-such-file", O_RDONLY), ENOENT, "open of a missing file in /etc gives ENOENT");
    DT_EXPECT_ERRNO(mkdir("/no/such/dir", 0755), ENOENT, "mkdir under a missing directory gives ENOENT");
    DT_EXPECT_ERRNO(open("/etc/passwd/x", O_RDONLY), ENOTDIR, "a file used as a directory gives ENOTDIR");
    DT_EXPECT_ERRNO(open("/tmp", O_WRONLY), EISDIR, "opening a directory for writing gives EISDIR");
    DT_EXPECT_ERRNO(close(-1), EBADF, "close(-1) gives EBADF");
    char byte;
    DT_EXPECT_ERRNO(read(1000, &byte, 1), EBADF, "read of a closed descriptor gives EBADF");
    DT_EXPECT_ERRNO(syscall(SYS_write, 1, BAD, 10), EFAULT, "write from a bad pointer gives EFAULT");
    int zero = open("/dev/zero", O_RDONLY);
    DT_EXPECT_ERRNO(syscall(SYS_read, zero, BAD, 10), EFAULT, "read into a bad pointer gives EFAULT");
    close(zero);
    DT_EXPECT_ERRNO(syscall(SYS_openat, AT_FDCWD, BAD, O_RDONLY), EFAULT, "openat with a bad path pointer gives EFAULT");
    DT_EXPECT_ERRNO(syscall(SYS_newfstatat, AT_FDCWD, "/", BAD, 0), EFAULT, "newfstatat into a bad pointer gives EFAULT");
    DT_EXPECT_ERRNO(syscall(SYS_clock_gettime, 0, (void *)0xffff800000000000UL), EFAULT, "clock_gettime into a kernel address gives EFAULT");
    long raw = syscall(SYS_write, 1, BAD, 10) == -1 ? -errno : 0;
    long direct;
    __asm__ volatile("syscall" : "=a"(direct) : "a"(SYS_write), "D"(1), "S"(BAD), "d"(10) : "rcx", "r11", "memory");
    printf("raw write from a bad pointer returns %ld (-EFAULT is %d)\n", direct, -EFAULT);
    dt_check(raw == -EFAULT && direct == -EFAULT, "the raw return value is -EFAULT", "%ld", direct);
    long unassigned;
    __asm__ volatile("syscall" : "=a"(unassigned) : "a"(511L) : "rcx", "r11", "memory");
    printf("system call 511 returns %ld (-ENOSYS is %d)\n", unassigned, -ENOSYS);
    dt_check(unassigned == -ENOSYS, "an unassigned system call gives -ENOSYS", "%ld", unassigned);
    DT_EXPECT_ERRNO(lseek(0 + open("/etc/passwd", O_RDONLY), 0, 7), EINVAL, "lseek with a bad whence gives EINVAL");
    int fds[2];
    pipe(fds);
    DT_EXPECT_ERRNO(lseek(fds[0], 0, SEEK_SET), ESPIPE, "lseek on a pipe gives ESPIPE");
    char long_name[5000];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[0] = '/';
    long_name[sizeof long_name - 1] = 0;
    DT_EXPECT_ERRNO(open(long_name, O_RDONLY), ENAMETOOLONG, "a path of 5000 bytes gives ENAMETOOLONG");
    DT_EXPECT_ERRNO(open("/etc/passwd", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file gives ENOTDIR");
    printf("errno is still usable: %s\n", dt_errno_name(ENOENT));
    return dt_finish();
}
