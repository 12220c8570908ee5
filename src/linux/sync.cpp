#include "sync.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <unistd.h>

namespace crunlite::linux_setup {

namespace {

bool send_with_fd(int socket_fd, const void* data, size_t length, int pass_fd) {
    iovec iov{const_cast<void*>(data), length};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (pass_fd >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
    }
    ssize_t n;
    do {
        n = ::sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == ssize_t(length);
}

}  // namespace

bool send_sync(int fd, SyncType type, int err, const char* text, int pass_fd) {
    SyncMessage message;
    message.type = type;
    message.err = err;
    strncpy(message.text, text, sizeof message.text - 1);
    size_t length = offsetof(SyncMessage, text) + strlen(message.text) + 1;
    return send_with_fd(fd, &message, length, pass_fd);
}

bool send_fd(int socket_fd, int fd, const std::string& payload) {
    return send_with_fd(socket_fd, payload.data(), payload.size(), fd);
}

bool receive_sync(int fd, SyncMessage& message, int* received_fd) {
    message = SyncMessage{};
    iovec iov{&message, sizeof message};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    message.text[sizeof message.text - 1] = '\0';
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        int passed;
        memcpy(&passed, CMSG_DATA(cmsg), sizeof(int));
        if (received_fd) *received_fd = passed;
        else ::close(passed);
    }
    return n >= ssize_t(offsetof(SyncMessage, text));
}

}  // namespace crunlite::linux_setup
