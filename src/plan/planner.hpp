// The planner: the one place a start's plan is made. create, exec and `check` all take their
// decisions from here; the plan comes back whole and is never written to afterwards.
#pragma once
#include <string>
#include <vector>

#include "plan/init_plan.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::planning {

// What create settled before planning.
struct CreateTarget {
    std::string id;
    std::string bundle;  // absolute
    cgroups::Layout layout;
    std::vector<std::string> cgroup_dirs;  // one per hierarchy; empty: no cgroups of its own (rootless)
    bool start_over_socket = false;        // `run`: START/GOING instead of exec.fifo
    bool has_process = true;               // false: config.json has no .process (the spec holds defaults)
    bool runtime_in_user_ns = false;       // the runtime is uid 0 of a user namespace (rootless podman, docker)
};

// Checks the bundle against the host and turns spec + options into what the runtime and init
// will do. Namespace files to join are opened and type-checked here, idmapped mounts get their
// user namespaces; the plan owns them.
LaunchPlan plan_create(const spec::Spec& spec, const runtime::CreateOptions& options, const CreateTarget& target);

// A process joining the running container `record` (its init's namespaces, its cgroups).
LaunchPlan plan_exec(const spec::Spec& spec, const state::Record& record, const runtime::ExecOptions& options);

// The namespaces of .linux.namespaces with a path: opened and type-checked (user first), the
// pid one apart (the runtime joins it for the clone). Throws Error naming the field.
struct JoinedNamespaces {
    std::vector<NamespaceJoin> joins;
    UniqueFd pid;
};
JoinedNamespaces open_namespace_paths(const spec::Spec& spec);

// process.env, plus HOME from the container's /etc/passwd when it is missing (as runc does).
std::vector<std::string> process_environment(const spec::Spec& spec);

int last_capability();

// What an unprivileged user cannot have (a user namespace not its own, supplementary groups,
// the host's network interfaces): throws Error naming the field. Cgroups are create's to judge:
// a delegated one is used (planning::userns_can_have_cgroup).
void check_rootless(const spec::Spec& spec);

// libseccomp compile of linux.seccomp; syscall names it does not know are logged at debug level.
SeccompProgram compile_seccomp_logged(const spec::Seccomp& seccomp);

}  // namespace crunlite::planning
