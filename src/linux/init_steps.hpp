// The steps of container init, one concern per file, in the order init_main.cpp calls them.
// Each throws crunlite::Error with the path or field it was working on.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "crunlite/unique_fd.hpp"
#include "init_plan.hpp"

namespace crunlite::linux_setup {

// namespaces.cpp
void enter_namespaces(const InitPlan& plan);
// A pid namespace joined or unshared by init only holds its children: it forks (CLONE_PARENT:
// the runtime stays the parent). Returns the child's pid in the parent, 0 in the child.
pid_t fork_into_pid_namespace();
void bring_up_loopback();
void set_names(const spec::Spec& spec);
void join_session_keyring();
// Joins the v1 hierarchies whose `tasks` files came with CGROUPS, then unshares the cgroup
// namespace (when the config asks for one).
void enter_cgroups(const InitPlan& plan, std::span<const UniqueFd> v1_tasks);

// mounts.cpp, for the parent (CGROUP_MOUNTS in protocol.hpp): one hierarchy's mount for a "cgroup"
// mount, made in the caller's cgroup namespace; and the attributes a planned mount asks for.
UniqueFd make_cgroup_mount(const cgroups::Hierarchy& hierarchy, uint64_t attrs, const std::string& json_path);
uint64_t mount_attributes(const PlannedMount& m);

// rootfs.cpp, mounts.cpp
UniqueFd prepare_root(const InitPlan& plan);  // returns an O_PATH fd of the root mount
// plan.mounts[first, end), in order.
void mount_all(const InitPlan& plan, int root_fd, size_t first, size_t end);
// The mount plan.cgroups.mount_from_runtime names, from the runtime's bind mounts.
void mount_cgroups_from_runtime(const InitPlan& plan, int root_fd, std::vector<UniqueFd> mounts);
void mask_paths(const spec::Spec& spec, int root_fd);
void make_paths_read_only(const spec::Spec& spec, int root_fd);
void finish_root(const InitPlan& plan, int root_fd);  // root.readonly
void enter_root(const InitPlan& plan, int root_fd);   // pivot_root, or MS_MOVE + chroot

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
void apply_process_attributes(const InitPlan& plan);  // scheduler, ioPriority, personality, LSM labels
// A label for an LSM this host does not run is an error (never silently unconfined).
void check_lsm_available(const spec::Spec& spec);
bool apparmor_enabled();  // /sys/module/apparmor/parameters/enabled is Y
bool selinux_enabled();   // selinuxfs is mounted

// devices.cpp
void create_devices(const InitPlan& plan, int root_fd);

// process.cpp
void apply_sysctls(const spec::Spec& spec);
void apply_rlimits(const spec::Process& process);
void set_oom_score_adj(const spec::Process& process);
void change_directory(const spec::Process& process);
void become_user(const InitPlan& plan);  // groups, uid/gid, capabilities, no_new_privs, umask
// Where .process.args[0] is looked for, in order: itself when it holds a '/'; otherwise in each
// directory of PATH (the last PATH= of env, else kDefaultSearchPath), an empty entry meaning
// the working directory (".").
constexpr const char* kDefaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
std::vector<std::string> executable_candidates(const std::string& name, const std::vector<std::string>& env);
// The first candidate that is an executable file (looked up in the current root).
std::string find_executable(const spec::Process& process, const std::vector<std::string>& env);
// Loads seccomp when the plan says "at exec", then execve; reports a failure on stderr (the
// runtime has stopped listening by then).
[[noreturn]] void exec_process(const InitPlan& plan, const std::string& executable);

}  // namespace crunlite::linux_setup
