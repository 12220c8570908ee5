#pragma once
#include <string>

#include "../cgroups/cgroup_entry.hpp"
#include "../linux/init_plan.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::runtime {

// Checks the bundle against the host and turns spec + options into what init will do.
// Namespace fds to join are opened here and owned by `owned_fds`.
linux_setup::InitPlan make_init_plan(const spec::Spec& spec, const std::string& bundle, const CreateOptions& options,
                                     std::vector<UniqueFd>& owned_fds, int& clone_flags, int& join_pid_fd);

// process.env, plus HOME from the container's /etc/passwd when it is missing (as runc does).
std::vector<std::string> process_environment(const spec::Spec& spec);

int last_capability();

// The child enters the container's cgroups itself (see cgroups/cgroup_entry.hpp): `entry`
// must outlive the clone. After it, finish_cgroup_entry writes cgroup.procs for the cgroup2
// directory when the kernel would not clone into it.
void plan_cgroup_entry(linux_setup::InitPlan& plan, const cgroups::CgroupEntry& entry);
void finish_cgroup_entry(const linux_setup::InitPlan& plan, const cgroups::CgroupEntry& entry, pid_t pid);

// CLONE_NEW* of a namespace kind (what NS_GET_NSTYPE answers for a namespace file of it).
int namespace_clone_flag(spec::NamespaceKind kind);

// What an unprivileged user cannot have (cgroup limits, supplementary groups...): throws
// Error naming the field.
void check_rootless(const spec::Spec& spec);

// libseccomp compile of linux.seccomp; syscall names it does not know are logged at debug level.
linux_setup::SeccompProgram compile_seccomp_logged(const spec::Seccomp& seccomp);

// Hands a seccomp notify fd and the container's state to linux.seccomp.listenerPath.
// `process_pid` is the filtered process; the state is the container's (`status`, `container_pid`).
void send_to_seccomp_listener(const spec::Seccomp& seccomp, int listener_fd, const std::string& id, int process_pid,
                              const std::string& status, int container_pid, const std::string& bundle,
                              const std::map<std::string, std::string>& annotations);

}  // namespace crunlite::runtime
