// Everything a start decides before clone, computed once by the planner (plan_create or
// plan_exec) so that the child does system calls, not parsing or planning. Nothing writes into
// a plan after the planner returns it; the descriptors it holds are its own.
//
// Beside it, InitHandoff holds what the runtime *made* for this one start after planning (the
// exec.fifo, the opened cgroup directories): resources of the create transaction, not
// decisions, handed to the child with the plan.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cgroups/cgroup_entry.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/spec.hpp"
#include "crunlite/unique_fd.hpp"
#include "plan/mount_options.hpp"
#include "sys/protocol.hpp"
#include "plan/seccomp_program.hpp"
#include "sys/cpu_affinity.hpp"
#include "resctrl/resctrl.hpp"

namespace crunlite::planning {

struct PlannedMount {
    const spec::Mount* config = nullptr;
    std::string json_path;  // ".mounts[3]", for error messages
    MountOptions options;
    std::string source;     // binds: absolute host path (relative ones resolved against the bundle)
    bool target_is_directory = true;
    std::string symlink_copy;  // "copy-symlink" of a symlink source: its target, made a symlink at the destination
    // idmapped bind: the source's detached tree with the mount's options and mappings, made by
    // the runtime (idmapping needs CAP_SYS_ADMIN over the filesystem, which init in the
    // container's user namespace lacks); init only attaches it.
    UniqueFd idmapped_tree;
};

struct NamespaceJoin {
    UniqueFd fd;  // a namespace file, type-checked by the planner
    int type;     // CLONE_NEW*
};

// When the seccomp filter loads: without noNewPrivileges it needs CAP_SYS_ADMIN, so before the
// capabilities drop; with it, as late as possible (at exec) so that it judges as little of the
// runtime as it can, unless a notify listener must still reach the runtime.
enum class SeccompLoad { none, before_user_change, after_user_change, at_exec };

struct CgroupPlan {
    cgroups::Layout layout;
    std::vector<std::string> dirs;            // host dirs, one per hierarchy (empty: no cgroups of its own)
    std::vector<std::string> v1_tasks_paths;  // `tasks` of the v1 ones, for messages
    // create: the v1 cgroups are made after clone, and init receives their `tasks` files with
    // CGROUPS (protocol.hpp) before it unshares its cgroup namespace.
    bool made_after_clone = false;
    // The index in mounts of the "cgroup" mount the runtime makes for init, in init's cgroup
    // namespace (CGROUP_MOUNTS): cgroup v1 or hybrid, no user namespace.
    std::optional<size_t> mount_from_runtime;
};

// linux.memoryPolicy as set_mempolicy(2) takes it.
struct MemoryPolicyPlan {
    int mode = 0;                 // MPOL_* or'ed with the MPOL_F_* flags
    sys::BitMask nodes;           // empty: no nodemask
    unsigned long max_node = 0;   // the bit count the kernel reads from `nodes`
};

struct InitPlan {
    const spec::Spec* spec = nullptr;  // outlives the plan
    std::vector<PlannedMount> mounts;
    // linux.mountLabel where SELinux is enabled, for the filesystems init makes; empty on a host
    // without SELinux, where crun ignores the label too (a context= option would fail there).
    std::string mount_label;
    uint64_t rootfs_propagation = 0;  // MS_SLAVE etc.
    bool rootfs_propagation_recursive = true;

    int unshare_flags = 0;              // namespaces init creates itself
    std::vector<NamespaceJoin> joins;   // to setns, user first
    bool new_user_ns = false;  // created here: the runtime writes its maps
    bool in_user_ns = false;   // new or joined: no mknod, no cgroup v1 mounts, setgroups may be denied
    bool new_net_ns = false;
    bool new_time_ns = false;
    bool new_cgroup_ns = false;
    // The pid namespace is joined (exec by an unprivileged user) or unshared (a user namespace
    // joined by path) by the child itself, where only its children land: it forks once more.
    bool fork_after_joining = false;

    CgroupPlan cgroups;

    bool no_pivot = false;
    // No mount namespace in the config: init stays in the runtime's, sets the root up on the
    // runtime's host root mount (InitHandoff::host_root) and chroots into it; never pivot_root,
    // which would move the root of every process there.
    bool shares_mount_ns = false;
    // exec into such a container: the root of its init (/proc/<pid>/root), to chroot into,
    // since no setns into a mount namespace gives the process that root.
    UniqueFd exec_root;
    bool new_keyring = true;
    // process.selinuxLabel where SELinux is enabled: the label the new session keyring is made
    // with (/proc/self/attr/keycreate), as runc gives it.
    std::string keyring_label;
    int preserve_fds = 0;
    // `run`: no exec.fifo; after READY init waits for START on the socket and answers GOING
    // right before it execs (create + start in one process need no fifo between them).
    bool start_over_socket = false;
    int last_capability = 40;

    std::vector<std::string> env;  // process.env, plus HOME when missing, plus LISTEN_FDS

    std::string id;      // for the state JSON handed to hooks
    std::string bundle;
    bool runtime_hooks = false;  // prestart or createRuntime hooks: the runtime runs them mid-setup
    bool no_process = false;     // config.json has no process: init sets up, then only waits to be deleted

    std::optional<SeccompProgram> seccomp;  // compiled by the runtime from linux.seccomp
    SeccompLoad seccomp_load = SeccompLoad::none;

    // The CPU affinity set before the user program runs, once the process is in its cgroups:
    // every CPU (the kernel keeps those of the cpuset; an affinity inherited from whoever
    // started the runtime must not leak in, as in runc >= 1.3.1), or exec's
    // execCPUAffinity.final. Empty: left as it is (exec with only `initial`).
    sys::BitMask cpu_affinity;
    std::optional<MemoryPolicyPlan> memory_policy;
};

// A host interface the runtime moves into the container's network namespace (linux.netDevices).
struct NetDeviceMove {
    std::string host_name;
    std::string container_name;
    std::string json_path;  // ".linux.netDevices.eth1", for errors
};

// The runtime's side of the clone.
struct LaunchPlan {
    InitPlan init;
    int clone_flags = 0;      // CLONE_NEWUSER / CLONE_NEWPID: init is born in them
    UniqueFd pid_namespace;   // joined by the runtime for the clone only (its children land there)
    // exec's execCPUAffinity.initial: the runtime's own affinity around the clone, so that the
    // child does all its setup there. Empty: unchanged.
    sys::BitMask cpu_affinity_initial;
    std::vector<NetDeviceMove> net_devices;
    int net_namespace = -1;  // the network namespace joined by path (an fd of init.joins); -1: init's new one
    std::optional<resctrl::GroupPlan> resctrl;  // linux.intelRdt: the runtime places init after clone
};

// What the runtime made for this start, after planning.
struct InitHandoff {
    cgroups::CgroupEntry cgroup_entry;  // the cgroup2 directory for CLONE_INTO_CGROUP; exec: v1 `tasks`
    UniqueFd exec_fifo;                 // O_PATH; none for `run` and exec
    UniqueFd host_root;                 // plan.shares_mount_ns: the root mount made for init
};

// The mount attributes (MOUNT_ATTR_*) a planned mount asks for.
uint64_t mount_attributes(const PlannedMount& m);

// Which optional rows of the protocol this start has (protocol.hpp), the same on both sides.
sys::ExchangeShape exchange_shape(const InitPlan& plan);

}  // namespace crunlite::planning
