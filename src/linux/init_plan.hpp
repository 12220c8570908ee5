// Everything container init needs, computed by the parent before clone so that the child
// does system calls, not parsing or planning.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crunlite/cgroups.hpp"
#include "crunlite/spec.hpp"
#include "mount_options.hpp"
#include "seccomp.hpp"

namespace crunlite::linux_setup {

struct PlannedMount {
    const spec::Mount* config = nullptr;
    std::string json_path;  // ".mounts[3]", for error messages
    MountOptions options;
    std::string source;     // binds: absolute host path (relative ones resolved against the bundle)
    bool target_is_directory = true;
    int idmap_userns_fd = -1;  // idmapped bind: a user namespace holding the mount's mappings
};

struct InitPlan {
    const spec::Spec* spec = nullptr;
    std::vector<PlannedMount> mounts;
    uint64_t rootfs_propagation = 0;  // MS_SLAVE etc.
    bool rootfs_propagation_recursive = true;

    int unshare_flags = 0;                       // namespaces init creates itself
    std::vector<std::pair<int, int>> joins;      // (fd, CLONE_NEW*) to setns, user first
    bool new_user_ns = false;  // created here: the parent writes its maps
    bool in_user_ns = false;   // new or joined: no mknod, no cgroup v1 mounts, setgroups may be denied
    bool new_net_ns = false;
    bool new_time_ns = false;
    bool new_cgroup_ns = false;

    const cgroups::Layout* cgroup_layout = nullptr;
    std::vector<std::string> cgroup_dirs;        // host dirs, one per hierarchy (cgroup mounts)
    // How the child enters its cgroups (cgroups/cgroup_entry.hpp): born into the cgroup2
    // directory, then it writes "0" to each v1 `tasks` file itself.
    int into_cgroup_fd = -1;                     // cleared by clone_init when the kernel refused it
    std::vector<int> cgroup_tasks_fds;
    std::vector<std::string> cgroup_tasks_paths;
    // create: the v1 cgroups are made after clone; init receives their `tasks` files with
    // the CGROUPS message (sync.hpp) before it mounts anything.
    bool cgroups_after_go = false;
    // The parent makes the cgroup mounts of the config's "cgroup" mount in init's cgroup
    // namespace and sends them (CGROUPNS / CGROUP_MOUNTS in sync.hpp).
    bool cgroup_mounts_from_parent = false;

    bool no_pivot = false;
    bool new_keyring = true;
    int preserve_fds = 0;
    int sync_fd = -1;  // init's end of the socketpair
    int fifo_fd = -1;  // O_PATH descriptor of exec.fifo
    // `run`: no exec.fifo; after READY init waits for START on the sync socket and answers
    // GOING right before it execs (create + start in one process need no fifo between them).
    bool start_over_sync = false;
    int last_capability = 40;

    std::vector<std::string> env;  // process.env, plus HOME when missing

    std::string id;      // for the state JSON handed to hooks
    std::string bundle;
    bool runtime_hooks = false;
    bool no_process = false;  // config.json has no process: init sets up, then only waits to be deleted

    std::optional<SeccompProgram> seccomp;  // compiled by the parent from linux.seccomp

    // The pid namespace is joined (exec by an unprivileged user) or unshared (a user namespace
    // joined by path) by the child itself, where only its children land: it forks once more.
    bool fork_after_joining = false;  // prestart or createRuntime hooks: the parent runs them mid-setup
};

// What a cloned child runs: the container's first process (create), or a process joining
// a running container (exec). Either execs the user program or throws.
void run_container_init(const InitPlan& plan);
void run_exec_init(const InitPlan& plan);

// The frame around either: closes the runtime's descriptors, resets signals, and turns an
// exception into an ERROR message to the parent. Never returns.
[[noreturn]] void run_in_child(const InitPlan& plan, void (*body)(const InitPlan&));

}  // namespace crunlite::linux_setup
