// Container init's end of the protocol (protocol.hpp): one method per message init sends or
// waits for, in the order of the table. A runtime that went away is not init's to report:
// every wait exits init quietly then (the runtime, if alive, says what happened).
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "protocol.hpp"

namespace crunlite::linux_setup {

class InitChannel {
public:
    explicit InitChannel(Channel channel) : channel_(std::move(channel)) {}

    void wait_go();
    // Init forked into a pid namespace it cannot enter itself: the first process reports the
    // child, which goes on with its copy of this channel.
    void report_pid(pid_t child);
    void continue_as_reported_child() { channel_.sent_by_another(Message::pid); }
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

}  // namespace crunlite::linux_setup
