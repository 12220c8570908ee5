/* Stand-in for the e2e nginx image in critest's PID namespace specs: a process whose name is
 * "nginx" (pidof finds it), whose command line says "nginx: master process ..." as nginx's
 * master does, and which writes its pid to /var/run/nginx.pid. It serves nothing: the specs
 * that need a web server (port mapping, port forward) are skipped by the stage. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_stop(int sig) { (void)sig; _exit(0); }

int main(int argc, char** argv) {
	static const char title[] = "nginx: master process nginx -g daemon off;";
	if (argc < 1 || strcmp(argv[0], title) != 0) {
		/* once more, with nginx's process title as argv[0]; the name (comm) stays "nginx" */
		char* const args[] = {(char*)title, NULL};
		execv("/proc/self/exe", args);
		perror("execv");
		return 1;
	}
	FILE* f = fopen("/var/run/nginx.pid", "w");
	if (!f) { perror("/var/run/nginx.pid"); return 1; }
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	signal(SIGTERM, on_stop);
	signal(SIGQUIT, on_stop);
	for (;;) pause();
}
