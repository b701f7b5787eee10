/* core-hello: the smallest observable Linux program. Prints a greeting through printf (glibc's
 * stdio: write(1) at exit), its arguments one per line, and exits with status 7 so the test sees
 * the exit status travel from exit_group to the environment (and QEMU). */
// Linked static (LinuxCoreTests runs the static loader path: an ET_EXEC program at 0x400000, no interpreter; tools/rootfs/build-program.sh):
// aegis-link: static
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("hello from a static Linux program\n");
    for (int i = 1; i < argc; i++)
        printf("argument %d: '%s'\n", i, argv[i]);
    return 7;
}
