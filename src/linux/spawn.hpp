// The parent's half of starting container init: clone3, the uid/gid maps, and the
// handshake of sync.hpp.
#pragma once
#include <sys/types.h>

#include <functional>
#include <vector>

#include "crunlite/unique_fd.hpp"
#include "init_plan.hpp"

namespace crunlite::linux_setup {

// Owns the init process until release(): destroying it kills and reaps init, so a
// failed create leaves no process behind.
class InitProcess {
public:
    InitProcess(pid_t pid, UniqueFd sync) : pid_(pid), sync_(std::move(sync)) {}
    InitProcess(InitProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)), sync_(std::move(other.sync_)) {}
    ~InitProcess();
    pid_t pid() const { return pid_; }
    int sync_fd() const { return sync_.get(); }
    pid_t release() { sync_.reset(); return std::exchange(pid_, -1); }
    // The parent's end of the sync socket, for whoever starts init over it (`run`).
    UniqueFd take_sync() { return std::move(sync_); }
    // The process handed its work to a child (PID message): reap it and own that child.
    void adopt(pid_t child);

private:
    pid_t pid_;
    UniqueFd sync_;
};

// Clones init into its new user and pid namespaces (the others it makes itself) and
// returns at once; init waits for GO.
InitProcess clone_init(InitPlan& plan, int clone_flags, void (*body)(const InitPlan&) = run_container_init);

// As root the maps are written directly. An unprivileged parent may write one mapping of its
// own uid/gid (after denying setgroups); several ranges need newuidmap/newgidmap (uidmap package).
void write_id_mappings(pid_t pid, const spec::Linux& linux, bool rootless);

// A user namespace with these mappings, for an idmapped mount (userns_fd.cpp).
UniqueFd make_user_namespace(const std::vector<spec::IdMapping>& uid_mappings, const std::vector<spec::IdMapping>& gid_mappings,
                             const std::string& what);

// Step 1 of the protocol (sync.hpp): init may go on with its namespaces.
void send_go(InitProcess& init);
// Step 1'' (create): the cgroups are ready; `tasks_fds` are v1 `tasks` files init writes "0" to.
void send_cgroups_ready(InitProcess& init, const std::vector<UniqueFd>& tasks_fds);

// Step 1' (plan.cgroup_mounts_from_parent): one detached bind mount of each of the container's
// cgroup directories (in hierarchy order, for the config's "cgroup" mount `m`), sent to init.
void send_cgroup_mounts(InitProcess& init, const std::vector<std::string>& cgroup_dirs, const PlannedMount& m);

// After GO: waits for READY, running `runtime_hooks` when init asks for them; throws with init's
// own error message otherwise.
// The pty master init sends with process.terminal lands in `console`.
// A seccomp listener fd goes to `seccomp_listener`.
void complete_handshake(InitProcess& init, const std::function<void()>& runtime_hooks, UniqueFd* console = nullptr,
                        const std::function<void(UniqueFd)>& seccomp_listener = {});

}  // namespace crunlite::linux_setup
