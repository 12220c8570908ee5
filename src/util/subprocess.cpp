#include "util/subprocess.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <tuple>

#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::subprocess {
namespace {

long long now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

std::pair<UniqueFd, UniqueFd> make_pipe(const std::string& program) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw Error("run " + program + ": pipe", errno);
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// In the child, between fork and exec: only calls that are safe after a fork.
[[noreturn]] void exec_child(const Options& options, char* const* argv, char* const* envp, int stdin_fd, int output_fd,
                             int go_read, int go_write) {
    // First, before the wait below: a Ctrl-C meant for the caller must not reach the child while
    // it waits for after_fork (the parent sets the group too, so either order holds).
    if (options.new_process_group) ::setpgid(0, 0);
    if (go_read >= 0) {  // Options::after_fork: one byte when the parent is done, EOF when it gave up
        ::close(go_write);
        char go = 0;
        ssize_t n;
        while ((n = ::read(go_read, &go, 1)) < 0 && errno == EINTR) {}
        if (n != 1) _exit(127);
        ::close(go_read);
    }
    if (stdin_fd >= 0) ::dup2(stdin_fd, STDIN_FILENO);
    if (output_fd >= 0 && options.capture_stdout) ::dup2(output_fd, STDOUT_FILENO);
    if (output_fd >= 0 && options.capture_stderr) ::dup2(output_fd, STDERR_FILENO);
    // Whatever the runtime holds open (state locks, container fds) is none of the program's business.
    ::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    for (int fd : options.pass_fds) ::fcntl(fd, F_SETFD, 0);
    if (options.before_exec) {
        std::string failure = options.before_exec();
        if (!failure.empty()) {
            dprintf(STDERR_FILENO, "%s\n", failure.c_str());
            _exit(127);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);  // the runtime ignores it; a program expects the default
    const char* program = options.program.empty() ? argv[0] : options.program.c_str();
    if (!options.program.empty()) ::execve(program, argv, envp ? envp : environ);
    else if (envp) ::execvpe(program, argv, envp);
    else ::execvp(program, argv);
    dprintf(STDERR_FILENO, "exec %s: %s\n", program, strerror(errno));
    _exit(127);
}

}  // namespace

bool Result::succeeded() const { return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

Result run(const std::vector<std::string>& args, const Options& options) {
    const std::string& program = options.program.empty() ? args.at(0) : options.program;
    UniqueFd in_read, in_write, out_read, out_write;
    if (options.input) std::tie(in_read, in_write) = make_pipe(program);
    bool capturing = options.capture_stdout || options.capture_stderr;
    if (capturing) std::tie(out_read, out_write) = make_pipe(program);
    UniqueFd go_read, go_write;
    if (options.after_fork) std::tie(go_read, go_write) = make_pipe(program);
    std::vector<char*> argv = c_strings(args);
    std::vector<char*> envp = options.env ? c_strings(*options.env) : std::vector<char*>{};

    pid_t pid = ::fork();
    if (pid < 0) throw Error("run " + program + ": fork", errno);
    if (pid == 0)
        exec_child(options, argv.data(), options.env ? envp.data() : nullptr, in_read ? in_read.get() : -1,
                   out_write ? out_write.get() : -1, go_read ? go_read.get() : -1, go_write ? go_write.get() : -1);
    in_read.reset();
    out_write.reset();
    if (options.new_process_group) ::setpgid(pid, pid);  // may race the child's own: both set the same
    if (options.after_fork) {
        go_read.reset();
        try {
            options.after_fork(pid);
        } catch (...) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
            throw;
        }
        char go = 1;
        if (::write(go_write.get(), &go, 1) != 1) {
            int err = errno;
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
            throw Error("run " + program + ": tell the child to go on", err);
        }
        go_write.reset();
    }

    Result result;
    // Without a timeout or a watched descriptor, waitpid alone waits; otherwise the pidfd says
    // when the child is gone.
    bool watching = options.watch_fd >= 0 && options.on_watch_readable;
    UniqueFd exited(options.timeout_seconds || watching ? int(::syscall(SYS_pidfd_open, pid, 0)) : -1);
    if (watching && !exited) {
        // Unwatched, the child would wait for an answer forever (CRIU for its action script).
        int err = errno;
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
        throw Error("run " + program + ": pidfd_open", err);
    }
    long long deadline = options.timeout_seconds ? now_ms() + *options.timeout_seconds * 1000LL : -1;
    size_t written = 0;
    if (in_write) ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
    while (out_read || in_write || exited) {
        pollfd fds[4] = {{out_read ? out_read.get() : -1, POLLIN, 0},
                         {in_write ? in_write.get() : -1, POLLOUT, 0},
                         {exited ? exited.get() : -1, POLLIN, 0},
                         {watching && exited ? options.watch_fd : -1, POLLIN, 0}};
        int wait = deadline < 0 ? -1 : int(std::max(0LL, deadline - now_ms()));
        int n = ::poll(fds, 4, wait);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        if (n == 0) {
            result.timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        if (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
            const std::string& input = *options.input;
            ssize_t w = ::write(in_write.get(), input.data() + written, input.size() - written);
            if (w > 0) written += size_t(w);
            if (w < 0 || written == input.size()) in_write.reset();
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[4096];
            ssize_t r = ::read(out_read.get(), buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) out_read.reset();
            else if (result.output.size() < options.output_limit)
                result.output.append(buf, std::min(size_t(r), options.output_limit - result.output.size()));
        }
        if (fds[3].revents & POLLIN) options.on_watch_readable();
        // The child has exited: what it wrote is still read to the end, its stdin no longer fed.
        if (fds[2].revents & POLLIN) {
            exited.reset();
            in_write.reset();
        }
    }
    while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {}
    return result;
}

std::string describe_exit(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
    return "stopped";
}

}  // namespace crunlite::subprocess
