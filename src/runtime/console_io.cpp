// The runtime's side of a container terminal: handing the pty master to a console socket,
// or, for a foreground run or exec, relaying it to the runtime's own terminal.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "sys/protocol.hpp"
#include "crunlite/error.hpp"
#include "runtime/internal.hpp"
#include "util/text.hpp"

namespace crunlite::runtime {
namespace {

// Puts the runtime's terminal in raw mode so keys reach the container untranslated, and
// restores it however the wait ends.
class RawTerminal {
public:
    explicit RawTerminal(int fd) : fd_(fd) {
        if (::tcgetattr(fd_, &saved_) != 0) { fd_ = -1; return; }
        termios raw = saved_;
        ::cfmakeraw(&raw);
        ::tcsetattr(fd_, TCSANOW, &raw);
    }
    ~RawTerminal() {
        if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
    }

private:
    int fd_;
    termios saved_{};
};


void copy_window_size(int from, int to) {
    winsize size{};
    // A terminal that does not know its size reports 0x0: keep the configured size then.
    if (::ioctl(from, TIOCGWINSZ, &size) == 0 && size.ws_row && size.ws_col) ::ioctl(to, TIOCSWINSZ, &size);
}

void drain(int from, int to) {
    ::fcntl(from, F_SETFL, ::fcntl(from, F_GETFL) | O_NONBLOCK);
    char buf[8192];
    ssize_t n;
    while ((n = ::read(from, buf, sizeof buf)) > 0) text::write_all(to, std::string_view(buf, size_t(n)));
}

}  // namespace

UniqueFd connect_unix_socket(const std::string& flag, const std::string& socket_path) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throw Error(flag + ": socket", errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) throw Error(flag + " " + socket_path + ": path too long");
    strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw Error(flag + ": connect " + socket_path, errno);
    return sock;
}

void send_to_console_socket(const std::string& socket_path, int master_fd) {
    UniqueFd sock = connect_unix_socket("--console-socket", socket_path);
    if (!sys::send_fd(sock.get(), master_fd, "/dev/ptmx"))
        throw Error("--console-socket: send the pty master to " + socket_path, errno);
}

int wait_forwarding_signals(int pid, int console_fd) {
    sigset_t all;
    sigfillset(&all);
    UniqueFd signals(::signalfd(-1, &all, SFD_CLOEXEC));
    if (!signals) throw Error("signalfd", errno);
    std::optional<RawTerminal> raw;
    bool relay_stdin = console_fd >= 0;
    if (console_fd >= 0 && ::isatty(STDIN_FILENO)) {
        raw.emplace(STDIN_FILENO);
        copy_window_size(STDIN_FILENO, console_fd);
    }
    char buf[8192];
    for (;;) {
        pollfd fds[3] = {{signals.get(), POLLIN, 0}, {console_fd, POLLIN, 0}, {relay_stdin ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            throw Error("poll", errno);
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(console_fd, buf, sizeof buf);
            if (n > 0) text::write_all(STDOUT_FILENO, std::string_view(buf, size_t(n)));
            else console_fd = -1;  // every slave is closed: the container is leaving
        }
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0 || !text::write_all(console_fd, std::string_view(buf, size_t(n)))) relay_stdin = false;
        }
        if (!(fds[0].revents & POLLIN)) continue;
        signalfd_siginfo info{};
        if (::read(signals.get(), &info, sizeof info) != sizeof info) continue;
        int sig = int(info.ssi_signo);
        if (sig == SIGCHLD) {
            int status = 0;
            pid_t done;
            while ((done = ::waitpid(-1, &status, WNOHANG)) > 0) {
                if (done != pid) continue;
                if (console_fd >= 0) drain(console_fd, STDOUT_FILENO);
                if (WIFEXITED(status)) return WEXITSTATUS(status);
                if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            }
        } else if (sig == SIGWINCH) {
            if (console_fd >= 0) copy_window_size(STDIN_FILENO, console_fd);
        } else if (sig != SIGURG) {  // Go runtimes use SIGURG internally; it is never meant for us
            ::kill(pid, sig);
        }
    }
}

}  // namespace crunlite::runtime
