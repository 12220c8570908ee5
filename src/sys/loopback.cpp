#include "sys/loopback.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::sys {
namespace {

// A socket of the namespace of `netns_fd`; a socket stays in the namespace it was made in.
UniqueFd socket_in(int netns_fd) {
    if (netns_fd < 0) return UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    UniqueFd ours(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!ours) throw Error("open /proc/self/ns/net", errno);
    if (::setns(netns_fd, CLONE_NEWNET) != 0) throw Error("enter the container's network namespace", errno);
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    int socket_errno = errno;
    if (::setns(ours.get(), CLONE_NEWNET) != 0) throw Error("return to the runtime's network namespace", errno);
    errno = socket_errno;
    return sock;
}

}  // namespace

void bring_up_loopback(int netns_fd) {
    UniqueFd sock = socket_in(netns_fd);
    if (!sock) throw Error("socket for the loopback interface", errno);
    ifreq request{};
    strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    request.ifr_flags = IFF_UP | IFF_RUNNING;
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) throw Error("bring up the loopback interface", errno);
}

}  // namespace crunlite::sys
