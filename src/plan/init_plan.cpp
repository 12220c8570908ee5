#include "plan/init_plan.hpp"

namespace crunlite::planning {

uint64_t mount_attributes(const PlannedMount& m) { return m.options.attr_set | m.options.recursive_attr_set; }

sys::ExchangeShape exchange_shape(const InitPlan& plan) {
    sys::ExchangeShape shape;
    shape.pid_handover = plan.fork_after_joining;
    shape.cgroup_mounts = plan.cgroups.mount_from_runtime.has_value();
    shape.cgroups = plan.cgroups.made_after_clone;
    shape.runtime_hooks = plan.runtime_hooks;
    shape.console = plan.spec->process->terminal;
    shape.seccomp_listener = plan.seccomp && plan.seccomp->notify;
    shape.start_over_socket = plan.start_over_socket && !plan.no_process;
    return shape;
}

}  // namespace crunlite::planning
