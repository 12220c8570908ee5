// Container init's end of the protocol (protocol.hpp): one method per message init sends or
// waits for, in the order of the table. A runtime that went away is not init's to report:
// every wait exits init quietly then (the runtime, if alive, says what happened).
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "sys/protocol.hpp"

namespace crunlite::init {

using sys::Channel;
using sys::Message;
using sys::Received;

class InitChannel {
public:
    explicit InitChannel(Channel channel) : channel_(std::move(channel)) {}

    void wait_go();
    // Forks with `fork_child` (the child's pid in the parent, 0 in the child): the first process
    // reports the child with PID and exits; the child returns, once PID is on the socket, and
    // speaks the rest of the protocol with its copy of this channel.
    void hand_over_to_child(pid_t (*fork_child)());
    std::vector<UniqueFd> receive_cgroup_mounts();
    std::vector<UniqueFd> receive_cgroups();
    // HOOKS, then waits for HOOKS_DONE (a failed hook ends init: the runtime reports it).
    void run_runtime_hooks();
    void hand_over_console(UniqueFd master);
    // SECCOMP, then waits until the runtime handed the listener on.
    void hand_over_seccomp_listener(UniqueFd listener);
    void ready(const std::string& timeline);
    void wait_start();
    // The last message: false when nobody listens any more.
    bool going();
    // Any time: init failed with this error (best effort: the runtime may be gone).
    void report_error(int error_number, const std::string& text);

    int fd() const { return channel_.fd(); }
    // After READY when exec.fifo, not the socket, starts the process.
    void close() { channel_.release_socket(); }

private:
    Received wait_for(Message message);
    void send_or_exit(Message message, std::span<const int> fds = {}, pid_t pid = 0, const std::string& text = "");

    Channel channel_;
};

}  // namespace crunlite::init
