#include "sys/protocol.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>

#include "crunlite/error.hpp"

namespace crunlite::sys {
namespace {

// What travels: fixed header, then the text up to its NUL.
struct Wire {
    Message message = Message::none;
    int32_t error_number = 0;
    int32_t pid = 0;
    char text[2048] = {};
};

bool send_with_fds(int socket_fd, const void* data, size_t length, std::span<const int> fds) {
    if (fds.size() > kMaxPassedFds) {
        errno = EMSGSIZE;
        return false;
    }
    iovec iov{const_cast<void*>(data), length};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
    if (!fds.empty()) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n;
    do {
        n = ::sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == ssize_t(length);
}

// One datagram and the descriptors that came with it; false when the peer is gone.
bool receive_wire(int socket_fd, Wire& wire, std::vector<UniqueFd>& fds) {
    iovec iov{&wire, sizeof wire};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    // A peer that closes its end with messages of ours unread (init failing while a CGROUPS it
    // has not read yet waits) leaves ECONNRESET on this socket, and SOCK_SEQPACKET reports
    // that before the messages the peer sent first (init's ERROR). Reported once, it is gone:
    // read again.
    ssize_t n;
    bool reset = false;
    do {
        n = ::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && (errno == EINTR || (errno == ECONNRESET && !std::exchange(reset, true))));
    wire.text[sizeof wire.text - 1] = '\0';
    if (n < 0) return false;
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int passed;
            memcpy(&passed, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            fds.emplace_back(passed);
        }
    }
    // Descriptors the kernel could not hand over make the message useless.
    return !(msg.msg_flags & MSG_CTRUNC) && n >= ssize_t(offsetof(Wire, text));
}

Side peer_of(Side side) { return side == Side::runtime ? Side::init : Side::runtime; }

}  // namespace

const char* message_name(Message message) {
    switch (message) {
        case Message::none: return "end of the exchange";
        case Message::go: return "GO";
        case Message::ready: return "READY";
        case Message::error: return "ERROR";
        case Message::hooks: return "HOOKS";
        case Message::hooks_done: return "HOOKS_DONE";
        case Message::console: return "CONSOLE";
        case Message::seccomp_listener: return "SECCOMP";
        case Message::pid: return "PID";
        case Message::cgroups: return "CGROUPS";
        case Message::start: return "START";
        case Message::going: return "GOING";
        case Message::seccomp_done: return "SECCOMP_DONE";
        case Message::cgroup_mounts: return "CGROUP_MOUNTS";
    }
    return "an unknown message";
}

const char* side_name(Side side) { return side == Side::runtime ? "the runtime" : "container init"; }

Channel::Channel(UniqueFd socket, Side self, const ExchangeShape& shape)
    : socket_(std::move(socket)), self_(self), shape_(shape), next_send_(next_of(self, 0)), next_receive_(next_of(peer_of(self), 0)) {}

size_t Channel::next_of(Side sender, size_t from) const {
    size_t i = from;
    while (i < std::size(kExchange) && (kExchange[i].sender != sender || (kExchange[i].when && !(shape_.*kExchange[i].when)))) ++i;
    return i;
}

Message Channel::expected() const {
    return next_receive_ < std::size(kExchange) ? kExchange[next_receive_].message : Message::none;
}

void Channel::advance_send(Message message) {
    Message due = next_send_ < std::size(kExchange) ? kExchange[next_send_].message : Message::none;
    if (message != due)
        throw Error(std::string("sync protocol: ") + side_name(self_) + " was about to send " + message_name(message) + " where " +
                    message_name(due) + " is due (a bug in crun-lite)");
    next_send_ = next_of(self_, next_send_ + 1);
}

void Channel::sent_by_another(Message message) { advance_send(message); }

bool Channel::send(Message message, std::span<const int> fds, pid_t pid, const std::string& text) {
    advance_send(message);
    Wire wire;
    wire.message = message;
    wire.pid = pid;
    strncpy(wire.text, text.c_str(), sizeof wire.text - 1);
    return send_with_fds(socket_.get(), &wire, offsetof(Wire, text) + strlen(wire.text) + 1, fds);
}

bool Channel::send_error(int error_number, const std::string& text) {
    Wire wire;
    wire.message = Message::error;
    wire.error_number = error_number;
    strncpy(wire.text, text.c_str(), sizeof wire.text - 1);
    return send_with_fds(socket_.get(), &wire, offsetof(Wire, text) + strlen(wire.text) + 1, {});
}

Received Channel::receive() {
    Wire wire;
    Received received;
    if (!receive_wire(socket_.get(), wire, received.fds)) return {};
    received.message = wire.message;
    received.error_number = wire.error_number;
    received.pid = wire.pid;
    received.text = wire.text;
    if (received.message == Message::error) return received;
    if (received.message != expected())
        throw Error(std::string("sync protocol: ") + side_name(peer_of(self_)) + " sent " + message_name(received.message) +
                    " where " + message_name(expected()) + " was due");
    next_receive_ = next_of(peer_of(self_), next_receive_ + 1);
    return received;
}

bool send_fd(int socket_fd, int fd, const std::string& payload) {
    return send_with_fds(socket_fd, payload.data(), payload.size(), std::span<const int>(&fd, 1));
}

}  // namespace crunlite::sys
