/* The kernel's struct sigaction (what rt_sigaction reads), from the uapi header alone. */
#include <asm/signal.h>
#include <stddef.h>
#include <stdio.h>
int main(void)
{
    printf("sa_handler %zu\nsa_flags %zu\nsa_restorer %zu\nsa_mask %zu\nsizeof_sigset %zu\n",
           offsetof(struct sigaction, sa_handler), offsetof(struct sigaction, sa_flags),
           offsetof(struct sigaction, sa_restorer), offsetof(struct sigaction, sa_mask), sizeof(sigset_t));
    return 0;
}
