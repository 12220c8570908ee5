// Pieces shared by the lifecycle commands, not part of the public runtime API.
#pragma once
#include <signal.h>

#include <map>
#include <optional>
#include <string>

#include "sys/protocol.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/spec.hpp"
#include "crunlite/state.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::runtime {

// Blocks signals for its lifetime (nothing when `active` is false), restoring the mask after.
class ScopedSignalBlock {
public:
    ScopedSignalBlock(const sigset_t& signals, bool active = true) : active_(active) {
        if (active_) ::sigprocmask(SIG_BLOCK, &signals, &previous_);
    }
    ~ScopedSignalBlock() {
        if (active_) ::sigprocmask(SIG_SETMASK, &previous_, nullptr);
    }
    ScopedSignalBlock(const ScopedSignalBlock&) = delete;
    ScopedSignalBlock& operator=(const ScopedSignalBlock&) = delete;

    static sigset_t all() {
        sigset_t set;
        sigfillset(&set);
        return set;
    }
    // What a Ctrl-C, a hang-up or a `kill` sends: held back while a command builds something it
    // must either finish or undo, since a signal's default action would skip every RAII cleanup.
    static sigset_t termination() {
        sigset_t set;
        sigemptyset(&set);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
        return set;
    }

private:
    bool active_;
    sigset_t previous_{};
};

struct CreatedContainer {
    int pid = 0;
    state::Record record;  // as saved in its state file
    UniqueFd console;  // the pty master, when the process has a terminal and no console socket took it
    std::optional<sys::Channel> start_channel;  // start_here: init waits on it for START
};

// --bundle made absolute (realpath); throws naming the bundle.
std::string absolute_bundle(const std::string& bundle);

// A new container's record before anything of it exists: id, bundle, rootfs, creation time,
// version and annotations (create and restore fill in the rest).
state::Record first_record(const std::string& id, const std::string& bundle, const spec::Spec& spec);

// The runtime's own cgroup ("/a/b", the unified hierarchy's when there is one), under which a
// relative .linux.cgroupsPath goes.
std::string runtime_cgroup();

// Hands a seccomp notify fd and the container's state to linux.seccomp.listenerPath.
// `process_pid` is the filtered process; the state is the container's (`status`, `container_pid`).
void send_to_seccomp_listener(const spec::Seccomp& seccomp, int listener_fd, const std::string& id, int process_pid,
                              const std::string& status, int container_pid, const std::string& bundle,
                              const std::map<std::string, std::string>& annotations);

// The end of `delete` for a container whose init has exited: cgroups (ending what outlived
// init), poststop hooks, the state file.
void remove_stopped(state::StateFile& state_file);
// `delete --force` of an opened container: its processes are killed first unless it has stopped.
void remove_whatever_its_status(state::StateFile& state_file);

// create, keeping the pty master for a foreground `run` when there is no --console-socket.
// start_here (`run`): no exec.fifo; init waits for START on `start_channel` instead
// (start_created_here). Ignored (a fifo, no socket) when seccomp is loaded before READY.
CreatedContainer create_container(const std::string& root, const std::string& id, const CreateOptions& options,
                                  bool foreground, bool start_here);

// `run`'s start of what create_container(start_here) made: START to init, then its GOING (it
// passed the startContainer hooks and execs), then the poststart hooks once it has; a failing
// one throws, and `run` removes the container as delete --force would.
void start_created_here(CreatedContainer& container);

// Hands the pty master to the --console-socket listener (SCM_RIGHTS), as runc does.
void send_to_console_socket(const std::string& socket_path, int master_fd);

// A connected AF_UNIX stream socket; `flag` names the option in errors.
UniqueFd connect_unix_socket(const std::string& flag, const std::string& socket_path);

// --pidfd-socket: a connection made before anything of the container exists (so that an
// unreachable socket fails early, leaving nothing behind), which later carries a pidfd of the
// container's init (create, run) or of the exec'd process (SCM_RIGHTS). The payload is what
// runc sends beside it: "standard" for an init, "setns" for an exec.
class PidfdSocket {
public:
    explicit PidfdSocket(const std::string& socket_path);  // "": no socket, send() does nothing
    void send(int pid, const char* payload);

private:
    std::string path_;
    UniqueFd sock_;
};

// With every signal blocked by the caller: forwards signals to `pid` until it exits (and,
// given a pty master, copies between it and the runtime's own stdio), then returns the
// exit status (128+N when killed by signal N).
int wait_forwarding_signals(int pid, int console_fd = -1);

}  // namespace crunlite::runtime
