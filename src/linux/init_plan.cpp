#include "init_plan.hpp"

namespace crunlite::linux_setup {

ExchangeShape exchange_shape(const InitPlan& plan) {
    ExchangeShape shape;
    shape.pid_handover = plan.fork_after_joining;
    shape.cgroup_mounts = plan.cgroups.mount_from_runtime.has_value();
    shape.cgroups = plan.cgroups.made_after_clone;
    shape.runtime_hooks = plan.runtime_hooks;
    shape.console = plan.spec->process->terminal;
    shape.seccomp_listener = plan.seccomp && plan.seccomp->notify;
    shape.start_over_socket = plan.start_over_socket && !plan.no_process;
    return shape;
}

}  // namespace crunlite::linux_setup
