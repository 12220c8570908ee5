#include "sync.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace crunlite::linux_setup {

bool send_sync(int fd, SyncType type, int err, const char* text) {
    SyncMessage message;
    message.type = type;
    message.err = err;
    strncpy(message.text, text, sizeof message.text - 1);
    size_t length = offsetof(SyncMessage, text) + strlen(message.text) + 1;
    ssize_t n;
    do {
        n = ::send(fd, &message, length, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == ssize_t(length);
}

bool receive_sync(int fd, SyncMessage& message) {
    message = SyncMessage{};
    ssize_t n;
    do {
        n = ::recv(fd, &message, sizeof message, 0);
    } while (n < 0 && errno == EINTR);
    message.text[sizeof message.text - 1] = '\0';
    return n >= ssize_t(offsetof(SyncMessage, text));
}

}  // namespace crunlite::linux_setup
