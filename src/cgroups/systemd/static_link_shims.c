/* The static build links libdbus-1.a, whose socket code refers to sd_listen_fds() and
 * sd_is_socket() for a bus daemon started by socket activation. crun-lite is only ever a bus
 * client, never calls that code, and Debian ships libsystemd as a shared library only: these
 * answer "no sockets were passed", which is what a client process has. */
int sd_listen_fds(int unset_environment) {
    (void)unset_environment;
    return 0;
}

int sd_is_socket(int fd, int family, int type, int listening) {
    (void)fd, (void)family, (void)type, (void)listening;
    return 0;
}
