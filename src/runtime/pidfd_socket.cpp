// --pidfd-socket (create, run, exec; runc >= 1.2): a pidfd of the container's process for a
// caller that is not its parent (a shim), so that it can wait for and signal exactly that
// process, immune to pid reuse.
#include <sys/syscall.h>
#include <unistd.h>

#include "crunlite/error.hpp"
#include "runtime/internal.hpp"
#include "sys/protocol.hpp"

namespace crunlite::runtime {

PidfdSocket::PidfdSocket(const std::string& socket_path) : path_(socket_path) {
    if (!path_.empty()) sock_ = connect_unix_socket("--pidfd-socket", path_);
}

void PidfdSocket::send(int pid, const char* payload) {
    if (!sock_) return;
    // Opened by the runtime (runc's init opens its own). The pid cannot have been reused yet:
    // an init waits for `start`, and an exec'd process is this runtime's child, not yet reaped.
    UniqueFd pidfd(int(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) throw Error("--pidfd-socket: pidfd_open " + std::to_string(pid), errno);
    if (!sys::send_fd(sock_.get(), pidfd.get(), payload)) throw Error("--pidfd-socket: send the pidfd to " + path_, errno);
    sock_.reset();  // the receiver reads until the connection ends
}

}  // namespace crunlite::runtime
