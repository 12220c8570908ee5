/* `pgrep NAME` for the test images (Debian's busybox has none): prints the pid of each process
 * whose name contains NAME; exit 1 when there is none, as pgrep. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
	if (argc != 2) {
		fputs("usage: pgrep NAME\n", stderr);
		return 2;
	}
	DIR* d = opendir("/proc");
	if (!d) { perror("/proc"); return 2; }
	int found = 0;
	struct dirent* e;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0])) continue;
		char path[300], comm[64] = "";
		snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
		FILE* f = fopen(path, "r");
		if (!f) continue;
		if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = 0;
		fclose(f);
		if (strstr(comm, argv[1])) { puts(e->d_name); found = 1; }
	}
	closedir(d);
	return found ? 0 : 1;
}
