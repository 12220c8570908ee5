// CRIU's "setup-namespaces" moment of a restore (the restored tree and its namespaces exist,
// none of it runs yet), where runc runs a restored container's prestart and createRuntime
// hooks. Debian's criu command line tells it only to an --action-script, a program CRIU runs
// (execvp) at each step of its work and waits for. crun-lite writes a small script into
// CRIU's work directory: at setup-namespaces it writes the restored init's pid into one FIFO
// and waits for "ok" on another, while crun-lite, which watches the first FIFO during the
// restore (subprocess::Options::watch_fd), runs the hooks and answers. A hook that fails makes
// the script fail, and CRIU undoes the restore.
#pragma once
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "crunlite/unique_fd.hpp"

namespace crunlite::criu {

class SetupNamespacesAction {
public:
    // Makes the script and its two FIFOs in work_dir (replacing what an earlier restore left).
    explicit SetupNamespacesAction(const std::string& work_dir);
    ~SetupNamespacesAction();  // removes them
    SetupNamespacesAction(const SetupNamespacesAction&) = delete;
    SetupNamespacesAction& operator=(const SetupNamespacesAction&) = delete;

    // "--action-script" and the script's path.
    std::vector<std::string> criu_args() const;
    // Readable once the script has written the pid.
    int request_fd() const { return request_.get(); }
    // Reads the pid and runs at_setup_namespaces(pid); answers "ok", or "fail" when it throws,
    // keeping what it threw for failure().
    void answer(const std::function<void(int pid)>& at_setup_namespaces);
    // What the hooks threw (null when they did not run or passed): the reason CRIU then fails.
    std::exception_ptr failure() const { return failure_; }

private:
    std::string script_, request_path_, reply_path_;
    UniqueFd request_, reply_;
    std::string pending_;  // what the script wrote, up to its newline
    std::exception_ptr failure_;
};

}  // namespace crunlite::criu
