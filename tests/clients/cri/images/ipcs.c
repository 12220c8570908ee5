/* `ipcs -m` for the test images (Debian's busybox has no ipcs): the System V shared memory
 * segments of the caller's IPC namespace, from /proc/sysvipc/shm. */
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
	if (argc != 2 || strcmp(argv[1], "-m") != 0) {
		fputs("usage: ipcs -m\n", stderr);
		return 2;
	}
	FILE* f = fopen("/proc/sysvipc/shm", "r");
	if (!f) { perror("/proc/sysvipc/shm"); return 1; }
	char line[512];
	puts("------ Shared Memory Segments --------");
	puts("key        shmid      owner      perms      bytes      nattch");
	if (!fgets(line, sizeof line, f)) { fclose(f); return 0; } /* the header */
	while (fgets(line, sizeof line, f)) {
		long key, shmid, size, nattch;
		unsigned perms, uid;
		/* key shmid perms size cpid lpid nattch uid ... */
		if (sscanf(line, "%ld %ld %o %ld %*d %*d %ld %u", &key, &shmid, &perms, &size, &nattch, &uid) == 6)
			printf("0x%08lx %-10ld %-10u %-10o %-10ld %ld\n", key, shmid, uid, perms, size, nattch);
	}
	fclose(f);
	return 0;
}
