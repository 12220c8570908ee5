// The runtime's half of starting a process in a container: clone3 (into the container's
// cgroup2 directory and, for the clone only, a pid namespace it joins), the uid/gid maps, and
// the runtime's end of the protocol (protocol.hpp), one method per message.
#pragma once
#include <sys/types.h>

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "crunlite/unique_fd.hpp"
#include "plan/init_plan.hpp"
#include "sys/protocol.hpp"

namespace crunlite::launch {

using planning::InitHandoff;
using planning::LaunchPlan;
using planning::PlannedMount;
using sys::Channel;
using sys::Message;

// Owns the init process until release(): destroying it kills and reaps init, so a failed
// create leaves no process behind.
class InitProcess {
public:
    InitProcess(pid_t pid, Channel channel, bool cloned_into_cgroup)
        : pid_(pid), channel_(std::move(channel)), cloned_into_cgroup_(cloned_into_cgroup) {}
    InitProcess(InitProcess&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)), channel_(std::move(other.channel_)), cloned_into_cgroup_(other.cloned_into_cgroup_) {}
    ~InitProcess();
    pid_t pid() const { return pid_; }
    // false when the kernel would not clone into the cgroup2 directory (older kernels, or a
    // directory that cannot take processes): enter_cgroup2 then writes cgroup.procs.
    bool cloned_into_cgroup() const { return cloned_into_cgroup_; }
    pid_t release() {
        channel_.release_socket();
        return std::exchange(pid_, -1);
    }

    // The runtime's messages, in the order of the protocol table.
    void go();
    // One detached bind mount per hierarchy for the config's "cgroup" mount.
    void send_cgroup_mounts(std::span<const UniqueFd> mounts);
    // The v1 `tasks` files init writes "0" to (none on cgroup2).
    void send_cgroups(std::span<const UniqueFd> v1_tasks);

    // What init asks of the runtime on its way to READY.
    struct Answers {
        std::function<void()> run_runtime_hooks;               // HOOKS
        std::function<void(UniqueFd)> take_seccomp_listener;   // SECCOMP
    };
    struct Ready {
        UniqueFd console;      // CONSOLE: the pty master
        std::string timeline;  // init's phases, for --debug
    };
    // Waits for READY, answering init's requests and adopting the child of a PID message;
    // throws with init's own error, or with how it died.
    Ready wait_ready(const Answers& answers);

    // `run`: the rest of the exchange (START, GOING), for whoever starts init later.
    Channel take_start_channel() { return std::move(channel_); }

private:
    void send(Message message, std::span<const int> fds, const char* what);
    [[noreturn]] void report_death();

    pid_t pid_;
    Channel channel_;
    bool cloned_into_cgroup_;
};

// Clones the container's init (create), or a process joining a running container (exec): born
// in plan.clone_flags' namespaces, in handoff's cgroup2 directory and (for the clone only) in
// plan.pid_namespace. Returns at once, with the child waiting for GO.
InitProcess clone_container_init(const LaunchPlan& plan, InitHandoff& handoff);
InitProcess clone_process_joining(const LaunchPlan& plan, InitHandoff& handoff);

// A child the kernel would not clone into its cgroup2 directory is moved there now.
void enter_cgroup2(const InitProcess& init, const cgroups::CgroupEntry& entry);

// `run`: START, then GOING (init passed the startContainer hooks and execs); false when init
// ended first. wait_for_exec (there are poststart hooks, which the runtime-spec runs once the
// user program is executed): also waits for that execve, and throws init's error if it failed.
bool start_over_socket(Channel& channel, bool wait_for_exec);

// The runtime's bind mount of each of the container's cgroup directories (in hierarchy order),
// for the config's "cgroup" mount `m` (CGROUP_MOUNTS).
std::vector<UniqueFd> make_cgroup_mounts(const std::vector<std::string>& cgroup_dirs, const PlannedMount& m);

}  // namespace crunlite::launch
