/* core-pie: built with -static-pie. Its own start code relocates it wherever the loader put it;
 * a pointer initialised at link time must then equal the function's run-time address. */
// Linked static-pie (the point of the program: it relocates itself, no interpreter; tools/rootfs/build-program.sh):
// aegis-link: static-pie
#include <stdio.h>

static int answer(void) { return 42; }
static int (*const pointer)(void) = answer;

int main(void)
{
    printf("static-pie: relocated pointer %s, answer %d\n", pointer == answer ? "matches" : "DIFFERS", pointer());
    return pointer == answer ? 0 : 1;
}
