/* The pod sandbox's process (what registry.k8s.io/pause is): holds the pod's namespaces, reaps
 * the orphans of a shared PID namespace, exits 0 on SIGTERM or SIGINT. Static: the image has
 * nothing else. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) { (void)sig; _exit(0); }
static void on_child(int sig) {
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

int main(void) {
	struct sigaction stop = {.sa_handler = on_stop}, child = {.sa_handler = on_child};
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGCHLD, &child, NULL);
	for (;;) pause();
}
