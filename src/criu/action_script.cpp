#include "criu/action_script.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "crunlite/error.hpp"
#include "util/text.hpp"

namespace crunlite::criu {
namespace {

std::pair<UniqueFd, UniqueFd> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw Error("restore: pipe for CRIU's action script", errno);
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// How the script, run by CRIU as root, reaches a pipe of this process.
std::string proc_path(const UniqueFd& fd) { return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd.get()); }

}  // namespace

SetupNamespacesAction::Directory::Directory(const std::string& state_root) {
    std::string name = state_root + "/:criu-action.XXXXXX";
    if (!::mkdtemp(name.data())) throw Error("restore: make a directory for CRIU's action script under " + state_root, errno);
    path = name;
    script = path + "/action.sh";
}

SetupNamespacesAction::Directory::~Directory() {
    ::unlink(script.c_str());
    ::rmdir(path.c_str());
}

SetupNamespacesAction::SetupNamespacesAction(const std::string& state_root) : dir_(state_root) {
    std::tie(request_read_, request_write_) = make_pipe();
    std::tie(reply_read_, reply_write_) = make_pipe();
    // Never a hang-up on the request pipe (this process holds its write end too), so poll does
    // not spin once the script has written and closed it.
    ::fcntl(request_read_.get(), F_SETFL, O_NONBLOCK);
    // Every other step of CRIU's passes; this one waits for crun-lite's answer.
    std::string text = "#!/bin/sh\n"
                       "# crun-lite: the restored container's prestart and createRuntime hooks run at this step\n"
                       "[ \"$CRTOOLS_SCRIPT_ACTION\" = setup-namespaces ] || exit 0\n"
                       "echo \"$CRTOOLS_INIT_PID\" > " + proc_path(request_write_) + " || exit 1\n"
                       "read -r answer < " + proc_path(reply_read_) + " || exit 1\n"
                       "[ \"$answer\" = ok ]\n";
    UniqueFd out(::open(dir_.script.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700));
    if (!out || !text::write_all(out.get(), text)) throw Error("restore: write " + dir_.script, errno);
}

std::vector<std::string> SetupNamespacesAction::criu_args() const { return {"--action-script", dir_.script}; }

void SetupNamespacesAction::answer(const std::function<void(int pid)>& at_setup_namespaces) {
    char buf[64];
    ssize_t n;
    while ((n = ::read(request_read_.get(), buf, sizeof buf)) > 0) pending_.append(buf, size_t(n));
    size_t newline = pending_.find('\n');
    if (newline == std::string::npos) return;  // the rest of the line is still to come
    std::string line = pending_.substr(0, newline);
    pending_.erase(0, newline + 1);
    int pid = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    try {
        if (ec != std::errc() || end != line.data() + line.size() || pid <= 0)
            throw Error("restore: CRIU's action script gave no pid (\"" + line + "\")");
        at_setup_namespaces(pid);
    } catch (...) {
        failure_ = std::current_exception();
    }
    text::write_all(reply_write_.get(), failure_ ? "fail\n" : "ok\n");
}

}  // namespace crunlite::criu
