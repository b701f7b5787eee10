/* signal-abort: abort() with SIGABRT's default action ends the program killed by SIGABRT
   (status 134 for the environment, as a shell's $?); a SIGABRT handler that returns does not
   stop it (abort resets the action and raises again). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int handled;
static void handler(int sig) { (void)sig; handled++; printf("SIGABRT handler ran (%d)\n", handled); }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== signal-abort\n");
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigaction(SIGABRT, &action, NULL);
    printf("calling abort\n");
    abort();
    printf("abort returned: FAILED\n");
    return 1;
}
