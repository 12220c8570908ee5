// CRIU's "setup-namespaces" moment of a restore (the restored tree and its namespaces exist,
// none of it runs yet), where runc runs a restored container's prestart and createRuntime
// hooks. Debian's criu command line tells it only to an --action-script, a program CRIU runs
// (execvp) at each step of its work and waits for. crun-lite writes a small script into a
// directory of its own under the state root (0700, named ":criu-action.*", which no container
// ID can be): at setup-namespaces the script writes the restored init's pid into a pipe of
// crun-lite's and waits for "ok" on another, both reached through /proc/<crun-lite>/fd/N, while
// crun-lite, which watches the first pipe during the restore (subprocess::Options::watch_fd),
// runs the hooks and answers. A hook that fails makes the script fail, and CRIU undoes the
// restore. Nothing is written where the caller points (the image and work directories).
#pragma once
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "crunlite/unique_fd.hpp"

namespace crunlite::criu {

class SetupNamespacesAction {
public:
    // Makes the directory and the script under `state_root`, and the two pipes.
    explicit SetupNamespacesAction(const std::string& state_root);
    SetupNamespacesAction(const SetupNamespacesAction&) = delete;
    SetupNamespacesAction& operator=(const SetupNamespacesAction&) = delete;

    // "--action-script" and the script's path.
    std::vector<std::string> criu_args() const;
    // Readable once the script has written the pid.
    int request_fd() const { return request_read_.get(); }
    // Reads the pid and runs at_setup_namespaces(pid); answers "ok", or "fail" when it throws,
    // keeping what it threw for failure().
    void answer(const std::function<void(int pid)>& at_setup_namespaces);
    // What the hooks threw (null when they did not run or passed): the reason CRIU then fails.
    std::exception_ptr failure() const { return failure_; }

private:
    // Made first and undone last, so that a constructor failing half-way leaves nothing either.
    struct Directory {
        explicit Directory(const std::string& state_root);
        ~Directory();
        std::string path, script;
    };
    Directory dir_;
    UniqueFd request_read_, request_write_, reply_read_, reply_write_;
    std::string pending_;  // what the script wrote, up to its newline
    std::exception_ptr failure_;
};

}  // namespace crunlite::criu
