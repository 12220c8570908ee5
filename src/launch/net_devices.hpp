// linux.netDevices: the runtime moves each host interface into the container's network
// namespace, once init is cloned (and before GO, so that the container never runs without
// them). Runs in the runtime, which holds CAP_NET_ADMIN over both namespaces; init may sit in
// a new user namespace that has no say over the host's interfaces.
#pragma once
#include <sys/types.h>

#include "plan/init_plan.hpp"

namespace crunlite::launch {

// Moves and renames each planned interface into init's network namespace (the joined one, or
// the one init was cloned into), gives it back its permanent global addresses, which the
// kernel drops on the move, and sets it up. Throws Error naming `.linux.netDevices.<name>`.
void move_net_devices(const planning::LaunchPlan& plan, pid_t init_pid);

}  // namespace crunlite::launch
