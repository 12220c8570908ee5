#include "sync.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <unistd.h>
#include <utility>

namespace crunlite::linux_setup {

namespace {

bool send_with_fds(int socket_fd, const void* data, size_t length, const int* fds, size_t count) {
    iovec iov{const_cast<void*>(data), length};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
    if (count > kMaxPassedFds) {
        errno = EMSGSIZE;
        return false;
    }
    if (count > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
    }
    ssize_t n;
    do {
        n = ::sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == ssize_t(length);
}

}  // namespace

bool send_sync(int fd, SyncType type, int err, const char* text, int pass_fd) {
    return send_sync_fds(fd, type, &pass_fd, pass_fd >= 0 ? 1 : 0, err, text);
}

bool send_sync_fds(int fd, SyncType type, const int* fds, size_t count, int err, const char* text) {
    SyncMessage message;
    message.type = type;
    message.err = err;
    strncpy(message.text, text, sizeof message.text - 1);
    size_t length = offsetof(SyncMessage, text) + strlen(message.text) + 1;
    return send_with_fds(fd, &message, length, fds, count);
}

bool send_fd(int socket_fd, int fd, const std::string& payload) {
    return send_with_fds(socket_fd, payload.data(), payload.size(), &fd, 1);
}

bool receive_sync(int fd, SyncMessage& message, int* received_fd) {
    int fds[kMaxPassedFds];
    size_t count = 0;
    bool ok = receive_sync_fds(fd, message, fds, &count);
    for (size_t i = 0; i < count; ++i) {
        if (i == 0 && received_fd) *received_fd = fds[i];
        else ::close(fds[i]);
    }
    return ok;
}

bool receive_sync_fds(int fd, SyncMessage& message, int* fds, size_t* count) {
    *count = 0;
    message = SyncMessage{};
    iovec iov{&message, sizeof message};
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
        n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && (errno == EINTR || (errno == ECONNRESET && !std::exchange(reset, true))));
    message.text[sizeof message.text - 1] = '\0';
    bool truncated = n >= 0 && (msg.msg_flags & MSG_CTRUNC);  // descriptors the kernel could not hand over
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        size_t n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; ++i) {
            int passed;
            memcpy(&passed, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (*count < kMaxPassedFds) fds[(*count)++] = passed;
            else ::close(passed);
        }
    }
    return !truncated && n >= ssize_t(offsetof(SyncMessage, text));
}

}  // namespace crunlite::linux_setup
