/* proc-pipe: a pipe between processes. Bytes written by the child arrive in order in the parent
 * (more than one ring's worth, so both sides block and wake); the reader sees EOF (0) once the
 * last writer is gone, including a writer that exited without closing; a writer with no reader
 * left gets EPIPE (SIGPIPE ignored) or dies of SIGPIPE (default); a pipeline the shell way:
 * two children connected by a pipe, the parent holding no ends. */
#include "difftest.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOTAL 263000 /* 263 blocks of 1000: four times the 64 KiB ring */

int main(void)
{
    dt_start("proc-pipe");
    int p[2];
    pipe(p);
    pid_t child = fork();
    if (child == 0) {
        close(p[0]);
        unsigned char block[1000];
        for (int sent = 0; sent < TOTAL; sent += (int)sizeof block) {
            for (int i = 0; i < (int)sizeof block; i++) block[i] = (unsigned char)((sent + i) % 251);
            if (write(p[1], block, sizeof block) != (ssize_t)sizeof block) _exit(2);
        }
        _exit(0); /* the write end goes with the process */
    }
    close(p[1]);
    long total = 0, wrong = 0;
    unsigned char buffer[4096];
    ssize_t n;
    while ((n = read(p[0], buffer, sizeof buffer)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (buffer[i] != (unsigned char)((total + i) % 251)) wrong++;
        total += n;
    }
    dt_check(n == 0 && total == TOTAL,
             "all bytes arrive, then EOF after the writer exited", "read %ld bytes, last %zd", total, n);
    dt_check(wrong == 0, "the bytes arrive in order", "%ld wrong", wrong);
    int status;
    waitpid(child, &status, 0);
    dt_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer's writes all succeeded", "status 0x%x", status);
    close(p[0]);

    int gate[2];
    pipe(p);
    pipe(gate);
    child = fork();
    if (child == 0) {
        char go;
        close(p[0]);
        close(gate[1]);
        signal(SIGPIPE, SIG_IGN);
        read(gate[0], &go, 1); /* the parent has closed its ends */
        ssize_t w = write(p[1], "x", 1);
        _exit(w == -1 && errno == EPIPE ? 31 : 32);
    }
    close(p[0]);
    close(p[1]);
    close(gate[0]);
    write(gate[1], "g", 1);
    close(gate[1]);
    waitpid(child, &status, 0);
    dt_check(WIFEXITED(status) && WEXITSTATUS(status) == 31, "a write with no reader gives EPIPE (SIGPIPE ignored)", "status 0x%x", status);

    pipe(p);
    pipe(gate);
    child = fork();
    if (child == 0) {
        char go;
        close(p[0]);
        close(gate[1]);
        read(gate[0], &go, 1);
        write(p[1], "x", 1);
        _exit(33);
    }
    close(p[0]);
    close(p[1]);
    close(gate[0]);
    write(gate[1], "g", 1);
    close(gate[1]);
    waitpid(child, &status, 0);
    dt_check(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE, "a write with no reader kills with SIGPIPE by default", "status 0x%x", status);

    pipe(p);
    pid_t writer = fork();
    if (writer == 0) {
        close(p[0]);
        dup2(p[1], 1);
        close(p[1]);
        printf("through the pipeline\n");
        fflush(stdout);
        _exit(0);
    }
    pid_t reader = fork();
    if (reader == 0) {
        close(p[1]);
        char line[64] = {0};
        ssize_t got = read(p[0], line, sizeof line - 1);
        char rest;
        ssize_t end = read(p[0], &rest, 1);
        _exit(got == 21 && strcmp(line, "through the pipeline\n") == 0 && end == 0 ? 40 : 41);
    }
    close(p[0]);
    close(p[1]);
    int writer_status, reader_status;
    waitpid(writer, &writer_status, 0);
    waitpid(reader, &reader_status, 0);
    dt_check(WIFEXITED(reader_status) && WEXITSTATUS(reader_status) == 40, "two children connected by a pipe (a shell's a | b)", "status 0x%x", reader_status);
    return dt_finish();
}
