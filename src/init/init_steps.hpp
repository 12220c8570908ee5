// The steps of container init, one concern per file, in the order init_main.cpp calls them.
// Each throws crunlite::Error with the path or field it was working on.
#pragma once
#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "crunlite/unique_fd.hpp"
#include "plan/init_plan.hpp"

namespace crunlite::init {

// What init reads: the plan the runtime made before clone.
using planning::CgroupPlan;
using planning::InitHandoff;
using planning::InitPlan;
using planning::MemoryPolicyPlan;
using planning::MountOptions;
using planning::NamespaceJoin;
using planning::PlannedMount;
using planning::SeccompLoad;
using planning::SeccompProgram;

// namespaces.cpp
void enter_namespaces(const InitPlan& plan);
// A pid namespace joined or unshared by init only holds its children: it forks (CLONE_PARENT:
// the runtime stays the parent). Returns the child's pid in the parent, 0 in the child.
pid_t fork_into_pid_namespace();
void set_names(const spec::Spec& spec);
// A fresh session keyring, made with `label` (SELinux) when it is not empty.
void join_session_keyring(const std::string& label);
// Joins the v1 hierarchies whose `tasks` files came with CGROUPS, then unshares the cgroup
// namespace (when the config asks for one).
void enter_cgroups(const InitPlan& plan, std::span<const UniqueFd> v1_tasks);

// The filesystems init made new for this container (its tmpfs mounts, /dev among them), by
// device number. Only the container sees them and they vanish with it, so what is in them may
// be replaced; the image and bind-mounted host directories are never modified that way.
struct FreshFilesystems {
    std::vector<dev_t> devices;
    bool contains(dev_t dev) const;
};

// rootfs.cpp, mounts.cpp
// Returns an O_PATH fd of the root mount: the rootfs bound onto itself in the container's mount
// namespace, or `host_root` when the container shares the runtime's.
UniqueFd prepare_root(const InitPlan& plan, int host_root);
// plan.mounts[first, end), in order; each new tmpfs is added to `fresh`.
void mount_all(const InitPlan& plan, int root_fd, size_t first, size_t end, FreshFilesystems& fresh);
// The mount plan.cgroups.mount_from_runtime names, from the runtime's bind mounts.
void mount_cgroups_from_runtime(const InitPlan& plan, int root_fd, std::vector<UniqueFd> mounts);
void mask_paths(const spec::Spec& spec, int root_fd);
void make_paths_read_only(const spec::Spec& spec, int root_fd);
void finish_root(const InitPlan& plan, int root_fd);  // root.readonly
void enter_root(const InitPlan& plan, int root_fd);   // pivot_root, or MS_MOVE + chroot, or chroot alone
void enter_exec_root(int root_fd);  // exec without a mount namespace to join: chroot into init's root

// console.cpp
struct Pty {
    UniqueFd master, slave;
};
Pty open_container_pty(int root_fd, const spec::Process& process);
void bind_console(int root_fd, int slave_fd);
// In a new session: the pty slave becomes stdio and the controlling terminal.
void make_controlling_terminal(UniqueFd slave);

// Marks every descriptor but stdio and the preserved ones close-on-exec.
void close_fds_at_exec(const InitPlan& plan);

// process_attributes.cpp
// Writes `value` to the LSM attribute file `path` (/proc/self/attr/...), checked to be on procfs;
// errors name `what` (the JSON field), with `enoent_hint` when the kernel answers ENOENT.
void write_proc_attr(const char* path, const std::string& value, const std::string& what, const std::string& enoent_hint = "");
void apply_process_attributes(const InitPlan& plan);  // scheduler, ioPriority, personality, LSM labels

// cpu_memory_placement.cpp: sched_setaffinity with plan.cpu_affinity (once in the cgroups);
// set_mempolicy with plan.memory_policy.
void apply_cpu_affinity(const InitPlan& plan);
void apply_memory_policy(const InitPlan& plan);

// seccomp_load.cpp: loads the program in the calling process; returns the notify listener fd, or -1.
int load_seccomp(const SeccompProgram& program);

// devices.cpp: a node may replace what is at its path only in a fresh filesystem.
void create_devices(const InitPlan& plan, int root_fd, const FreshFilesystems& fresh);

// process.cpp
void apply_sysctls(const spec::Spec& spec);
void apply_rlimits(const spec::Process& process);
void set_oom_score_adj(const spec::Process& process);
void change_directory(const spec::Process& process);
void become_user(const InitPlan& plan);  // groups, uid/gid, capabilities, no_new_privs, umask
// The first candidate that is an executable file (looked up in the current root).
std::string find_executable(const spec::Process& process, const std::vector<std::string>& env);
// Loads seccomp when the plan says "at exec", then execve; reports a failure on stderr (the
// runtime has stopped listening by then).
[[noreturn]] void exec_process(const InitPlan& plan, const std::string& executable);

}  // namespace crunlite::init
