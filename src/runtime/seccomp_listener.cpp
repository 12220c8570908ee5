// SCMP_ACT_NOTIFY: the listener fd goes to linux.seccomp.listenerPath with the
// runtime-spec "container process state" as the message, the fd as SCM_RIGHTS.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "sys/protocol.hpp"
#include "crunlite/error.hpp"
#include "crunlite/hooks.hpp"
#include "crunlite/runtime.hpp"
#include "plan/planner.hpp"

namespace crunlite::runtime {

void send_to_seccomp_listener(const spec::Seccomp& seccomp, int listener_fd, const std::string& id, int process_pid,
                              const std::string& status, int container_pid, const std::string& bundle,
                              const std::map<std::string, std::string>& annotations) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throw Error(".linux.seccomp.listenerPath: socket", errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (seccomp.listener_path.size() >= sizeof addr.sun_path) throw Error(".linux.seccomp.listenerPath: path too long");
    strncpy(addr.sun_path, seccomp.listener_path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw Error(".linux.seccomp.listenerPath: connect " + seccomp.listener_path, errno);
    nlohmann::json message = {
        {"ociVersion", kSpecVersion},
        {"fds", {"seccompFd"}},
        {"pid", process_pid},
        {"metadata", seccomp.listener_metadata},
        {"state", nlohmann::json::parse(hooks::state_json(id, status, container_pid, bundle, annotations))},
    };
    if (!sys::send_fd(sock.get(), listener_fd, message.dump()))
        throw Error(".linux.seccomp.listenerPath: send the listener fd to " + seccomp.listener_path, errno);
}

}  // namespace crunlite::runtime
