#include "crunlite/hooks.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::hooks {
namespace {

long long now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

std::string last_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    auto nl = text.rfind('\n');
    if (nl != std::string::npos) text = text.substr(nl + 1);
    return text.size() > 300 ? text.substr(text.size() - 300) : text;
}

void run_one(const spec::Hook& hook, const std::string& what, const std::string& state) {
    int in_pipe[2], out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) throw Error(what + ": pipe", errno);
    UniqueFd in_read(in_pipe[0]), in_write(in_pipe[1]);
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw Error(what + ": pipe", errno);
    UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);

    std::vector<char*> argv, envp;
    std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : hook.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) throw Error(what + ": fork", errno);
    if (pid == 0) {
        ::dup2(in_read.get(), 0);
        ::dup2(out_write.get(), 1);
        ::dup2(out_write.get(), 2);
        ::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        ::execve(hook.path.c_str(), argv.data(), envp.data());
        dprintf(2, "exec %s: %s\n", hook.path.c_str(), strerror(errno));
        _exit(127);
    }
    in_read.reset();
    out_write.reset();
    // The hook may not read its stdin at all: a failed write is not the hook failing.
    size_t written = 0;
    ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
    long long deadline = hook.timeout ? now_ms() + *hook.timeout * 1000LL : -1;
    std::string output;
    bool timed_out = false;
    for (;;) {
        pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {in_write ? in_write.get() : -1, POLLOUT, 0}};
        int wait = deadline < 0 ? -1 : int(std::max(0LL, deadline - now_ms()));
        int n = ::poll(fds, 2, wait);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) { timed_out = true; break; }
        if (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t w = ::write(in_write.get(), state.data() + written, state.size() - written);
            if (w > 0) written += size_t(w);
            if (w < 0 || written == state.size()) in_write.reset();
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            char buf[4096];
            ssize_t r = ::read(out_read.get(), buf, sizeof buf);
            if (r <= 0) break;
            if (output.size() < 65536) output.append(buf, size_t(r));
        }
    }
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (timed_out) throw Error(what + ": " + hook.path + " timed out after " + std::to_string(*hook.timeout) + "s");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                        : std::string("was killed by signal ") + strsignal(WTERMSIG(status));
    std::string tail = last_line(output);
    throw Error(what + ": " + hook.path + " " + how + (tail.empty() ? "" : ": " + tail));
}

}  // namespace

void run(const std::vector<spec::Hook>& hooks, const std::string& phase, const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i)
        run_one(hooks[i], ".hooks." + phase + "[" + std::to_string(i) + "]", state_json);
}

void run_warning_on_failure(const std::vector<spec::Hook>& hooks, const std::string& phase, const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i) {
        try {
            run_one(hooks[i], ".hooks." + phase + "[" + std::to_string(i) + "]", state_json);
        } catch (const Error& e) {
            log::warning(e.what());
        }
    }
}

std::string state_json(const std::string& id, const std::string& status, int pid, const std::string& bundle,
                       const std::map<std::string, std::string>& annotations) {
    nlohmann::json state = {{"ociVersion", runtime::kSpecVersion}, {"id", id}, {"status", status}, {"pid", pid}, {"bundle", bundle}};
    if (!annotations.empty()) state["annotations"] = annotations;
    return state.dump();
}

nlohmann::json to_json(const spec::Hooks& hooks) {
    auto list = [](const std::vector<spec::Hook>& hs) {
        nlohmann::json out = nlohmann::json::array();
        for (auto& h : hs) {
            nlohmann::json j = {{"path", h.path}, {"args", h.args}, {"env", h.env}};
            if (h.timeout) j["timeout"] = *h.timeout;
            out.push_back(j);
        }
        return out;
    };
    return {{"poststart", list(hooks.poststart)}, {"poststop", list(hooks.poststop)}};
}

spec::Hooks from_json(const nlohmann::json& json) {
    spec::Hooks hooks;
    auto list = [&](const char* key, std::vector<spec::Hook>& out) {
        if (!json.contains(key)) return;
        for (auto& j : json[key]) {
            spec::Hook h;
            h.path = j.value("path", "");
            h.args = j.value("args", std::vector<std::string>{});
            h.env = j.value("env", std::vector<std::string>{});
            if (j.contains("timeout")) h.timeout = j["timeout"].get<int>();
            out.push_back(h);
        }
    };
    list("poststart", hooks.poststart);
    list("poststop", hooks.poststop);
    return hooks;
}

}  // namespace crunlite::hooks
