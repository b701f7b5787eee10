/* boot-resolve: glibc's getaddrinfo, as a dynamically linked program calls it, for each name of its
 * arguments: "NAME: ADDRESS..." (every address once, in glibc's order) or "NAME: error TEXT". A boot
 * test judges it (Aegis.Tests/Boot/LinuxSocketBootTests.cs): the names come from /etc/hosts or from
 * a DNS server of the test's on the host, through /etc/nsswitch.conf, /etc/resolv.conf, UDP sockets,
 * sendmmsg (glibc asks for A and AAAA at once) and poll. The hints are a typical client's:
 * any family, a stream, AI_ADDRCONFIG. Not differential: the host's names are not the guest's. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static void resolve(const char *name)
{
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int error = getaddrinfo(name, NULL, &hints, &found);
    if (error != 0) {
        printf("%s: error %s\n", name, gai_strerror(error));
        return;
    }
    char seen[16][INET6_ADDRSTRLEN];
    int count = 0;
    printf("%s:", name);
    for (struct addrinfo *a = found; a != NULL && count < 16; a = a->ai_next) {
        const void *address = a->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                                                      : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
        if (inet_ntop(a->ai_family, address, seen[count], sizeof seen[count]) == NULL) continue;
        int again = 0; /* the same address for another protocol */
        for (int i = 0; i < count; i++) again |= strcmp(seen[i], seen[count]) == 0;
        if (again) continue;
        printf(" %s", seen[count++]);
    }
    printf("\n");
    freeaddrinfo(found);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) resolve(argv[i]);
    return 0;
}
