#include "criu/action_script.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "crunlite/error.hpp"
#include "util/text.hpp"

namespace crunlite::criu {
namespace {

void remove_if_there(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw Error("restore: remove " + path, errno);
}

void make_fifo(const std::string& path) {
    remove_if_there(path);
    if (::mkfifo(path.c_str(), 0600) != 0) throw Error("restore: make the FIFO " + path, errno);
}

// Opened read-write, so that neither end ever sees the other gone: the request FIFO never
// reports a hang-up once the script has written and closed it (poll would spin on that), and
// the answer waits in the reply FIFO until the script opens it to read.
UniqueFd open_fifo(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd) throw Error("restore: open the FIFO " + path, errno);
    return fd;
}

}  // namespace

SetupNamespacesAction::SetupNamespacesAction(const std::string& work_dir)
    : script_(work_dir + "/crun-lite-action.sh"),
      request_path_(work_dir + "/crun-lite-action.pid"),
      reply_path_(work_dir + "/crun-lite-action.answer") {
    make_fifo(request_path_);
    make_fifo(reply_path_);
    request_ = open_fifo(request_path_);
    reply_ = open_fifo(reply_path_);
    // Every other step of CRIU's passes; this one waits for crun-lite's answer.
    std::string text = "#!/bin/sh\n"
                       "# crun-lite: the restored container's prestart and createRuntime hooks run at this step\n"
                       "[ \"$CRTOOLS_SCRIPT_ACTION\" = setup-namespaces ] || exit 0\n"
                       "echo \"$CRTOOLS_INIT_PID\" > " + text::shell_quote(request_path_) + " || exit 1\n"
                       "read -r answer < " + text::shell_quote(reply_path_) + " || exit 1\n"
                       "[ \"$answer\" = ok ]\n";
    remove_if_there(script_);
    UniqueFd out(::open(script_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700));
    if (!out || !text::write_all(out.get(), text)) throw Error("restore: write " + script_, errno);
}

SetupNamespacesAction::~SetupNamespacesAction() {
    for (const std::string* path : {&script_, &request_path_, &reply_path_}) ::unlink(path->c_str());
}

std::vector<std::string> SetupNamespacesAction::criu_args() const { return {"--action-script", script_}; }

void SetupNamespacesAction::answer(const std::function<void(int pid)>& at_setup_namespaces) {
    char buf[64];
    ssize_t n;
    while ((n = ::read(request_.get(), buf, sizeof buf)) > 0) pending_.append(buf, size_t(n));
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
    text::write_all(reply_.get(), failure_ ? "fail\n" : "ok\n");
}

}  // namespace crunlite::criu
