/* The no-new-privileges probe (e2e nonewprivs image): installed setuid root, started as a
 * non-root user, prints the effective uid it runs with: 0 when the setuid bit was honoured,
 * the caller's uid under no_new_privs. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
	printf("Effective uid: %d\n", (int)geteuid());
	return 0;
}
