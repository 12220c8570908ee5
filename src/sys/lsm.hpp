// Which Linux security modules this host runs: asked by the planner (a label for a module the
// host does not run is an error, never a silently unconfined container), `check` and `features`.
#pragma once
#include "crunlite/spec.hpp"

namespace crunlite::sys {

bool apparmor_enabled();  // /sys/module/apparmor/parameters/enabled is Y
bool selinux_enabled();   // selinuxfs is mounted
// Throws Error naming .process.apparmorProfile or .process.selinuxLabel.
void check_lsm_available(const spec::Spec& spec);

}  // namespace crunlite::sys
