/* dup2: file-descriptor duplication. dup gives the lowest free descriptor; dup2 onto standard
 * output redirects printf into a file, and dup2 back restores the terminal; the two
 * descriptors share one offset; dup3 with O_CLOEXEC sets FD_CLOEXEC on the new one only; dup2 of
 * a descriptor onto itself returns it; a bad descriptor gives EBADF; dup3 onto itself gives
 * EINVAL; fcntl F_DUPFD gives the lowest descriptor at or above its argument. The file's
 * contents are printed at the end. Exit status 0 when every check passed. */
#include "difftest.h"
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
    dt_start("dup2");
    char path[64];
    snprintf(path, sizeof path, "/tmp/aegis-dup2-%d", (int)getpid());
    int fd = DT_EXPECT_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644), "create the file");
    int saved = DT_EXPECT_OK(dup(1), "dup standard output");
    int lowest = dup(fd);
    int probe = open("/dev/null", O_RDONLY);
    close(lowest);
    int again = dup(fd);
    dt_check(again == lowest, "dup reuses the lowest free descriptor", "got %d then %d", lowest, again);
    close(again);
    close(probe);

    fflush(stdout);
    int redirected = dup2(fd, 1);
    printf("this line went to the file\n");
    fflush(stdout);
    int restored = dup2(saved, 1);
    dt_check(redirected == 1, "dup2 the file onto standard output", "got %d", redirected);
    dt_check(restored == 1, "dup2 the saved descriptor back", "got %d", restored);
    printf("standard output is back\n");

    off_t shared_offset = lseek(fd, 0, SEEK_CUR);
    dt_check(shared_offset == 27, "the file's offset moved with the write through fd 1", "offset %ld", (long)shared_offset);
    DT_EXPECT_OK(lseek(fd, 0, SEEK_SET), "rewind");
    char buffer[128] = {0};
    long n = read(fd, buffer, sizeof buffer - 1);
    printf("the file holds %ld bytes: %s", n, buffer);

    int cloexec = DT_EXPECT_OK(dup3(fd, 20, O_CLOEXEC), "dup3 to 20 with O_CLOEXEC");
    dt_check(cloexec == 20, "dup3 returns 20", "got %d", cloexec);
    dt_check(fcntl(20, F_GETFD) == FD_CLOEXEC, "fd 20 has FD_CLOEXEC", "flags %d", fcntl(20, F_GETFD));
    dt_check(fcntl(fd, F_GETFD) == 0, "the original has no FD_CLOEXEC", "flags %d", fcntl(fd, F_GETFD));
    dt_check(dup2(fd, fd) == fd, "dup2 onto itself returns the descriptor", "changed");
    DT_EXPECT_ERRNO(dup3(fd, fd, 0), EINVAL, "dup3 onto itself gives EINVAL");
    DT_EXPECT_ERRNO(dup2(99, 30), EBADF, "dup2 of a closed descriptor gives EBADF");
    DT_EXPECT_ERRNO(dup(-1), EBADF, "dup of -1 gives EBADF");
    int above = fcntl(fd, F_DUPFD, 40);
    dt_check(above == 40, "F_DUPFD 40 gives 40", "got %d", above);
    close(above);
    close(20);
    close(fd);
    close(saved);
    unlink(path);
    return dt_finish();
}
