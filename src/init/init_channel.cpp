#include "init/init_channel.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "crunlite/error.hpp"

namespace crunlite::init {

Received InitChannel::wait_for(Message message) {
    Received received = channel_.receive();  // throws on a message out of the table's order
    if (received.message == Message::none) _exit(1);  // the runtime gave up
    if (received.message != message)
        throw Error(std::string("sync protocol: the runtime sent ") + message_name(received.message) + " where " +
                    message_name(message) + " was due");
    return received;
}

void InitChannel::send_or_exit(Message message, std::span<const int> fds, pid_t pid, const std::string& text) {
    if (!channel_.send(message, fds, pid, text)) _exit(1);
}

void InitChannel::wait_go() { wait_for(Message::go); }

void InitChannel::hand_over_to_child(pid_t (*fork_child)()) {
    // Both processes hold the socket: the child must not speak before PID is on it, or the
    // runtime would meet its next message where PID is due. It waits for the end of a pipe
    // whose only writer is the first process, which closes it by exiting after PID.
    int pid_sent[2];
    if (::pipe2(pid_sent, O_CLOEXEC) != 0) throw Error("pipe", errno);
    if (pid_t child = fork_child()) {
        ::close(pid_sent[0]);
        send_or_exit(Message::pid, {}, child);
        _exit(0);
    }
    ::close(pid_sent[1]);
    char byte;
    while (::read(pid_sent[0], &byte, 1) < 0 && errno == EINTR) {}
    ::close(pid_sent[0]);
    channel_.sent_by_another(Message::pid);
}

std::vector<UniqueFd> InitChannel::receive_cgroup_mounts() { return std::move(wait_for(Message::cgroup_mounts).fds); }

std::vector<UniqueFd> InitChannel::receive_cgroups() { return std::move(wait_for(Message::cgroups).fds); }

void InitChannel::run_runtime_hooks() {
    send_or_exit(Message::hooks);
    wait_for(Message::hooks_done);
}

void InitChannel::hand_over_console(UniqueFd master) {
    int fd = master.get();
    send_or_exit(Message::console, std::span<const int>(&fd, 1));
}

void InitChannel::hand_over_seccomp_listener(UniqueFd listener) {
    int fd = listener.get();
    send_or_exit(Message::seccomp_listener, std::span<const int>(&fd, 1));
    wait_for(Message::seccomp_done);
}

void InitChannel::ready(const std::string& timeline) { send_or_exit(Message::ready, {}, 0, timeline); }

void InitChannel::wait_start() { wait_for(Message::start); }

bool InitChannel::going() { return channel_.send(Message::going); }

void InitChannel::report_error(int error_number, const std::string& text) { channel_.send_error(error_number, text); }

}  // namespace crunlite::init
