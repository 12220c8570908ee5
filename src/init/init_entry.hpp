// Where the cloned child begins: the two bodies (a container's init, a process joining a
// container) and the frame around them.
#pragma once
#include "init/init_channel.hpp"
#include "plan/init_plan.hpp"

namespace crunlite::init {

using planning::InitHandoff;
using planning::InitPlan;

// The container's first process (create), or a process joining a running container (exec).
// Either execs the user program or throws.
using InitBody = void (*)(const InitPlan& plan, InitHandoff& handoff, InitChannel& channel);
void run_container_init(const InitPlan& plan, InitHandoff& handoff, InitChannel& channel);
void run_exec_init(const InitPlan& plan, InitHandoff& handoff, InitChannel& channel);

// The frame around either: closes the runtime's descriptors, resets signals, enters the v1
// cgroups it was handed, and turns an exception into ERROR. Never returns.
[[noreturn]] void run_in_child(const InitPlan& plan, InitHandoff& handoff, InitChannel channel, InitBody body);

}  // namespace crunlite::init
