#pragma once
#include <string>

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

}  // namespace crunlite::runtime
