// Bind mounts as detached trees: how init makes each bind, and how the runtime makes an idmapped
// one whole before init exists.
#pragma once
#include "plan/init_plan.hpp"

namespace crunlite::planning {

// The bind's source as a detached tree with the mount's options applied (attributes,
// propagation), not attached anywhere. Init calls it for each plain bind.
UniqueFd bind_tree(const PlannedMount& m);

// The same tree idmapped with the user namespace `userns`. The runtime calls it while planning,
// in the host's user namespace: the kernel lets only a holder of CAP_SYS_ADMIN over the
// filesystem idmap a mount, so init, in the container's user namespace, could not; it attaches
// the tree it inherits.
UniqueFd make_idmapped_bind(const PlannedMount& m, int userns);

}  // namespace crunlite::planning
