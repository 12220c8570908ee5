// The container's cgroup when the runtime is unprivileged: an ordinary user, or uid 0 of a user
// namespace (rootless podman, docker).
#pragma once
#include <string>
#include <vector>

#include "crunlite/spec.hpp"

namespace crunlite::planning {

// Whether the container gets the cgroup directories `dirs` (one per hierarchy), which an
// unprivileged runtime (`unprivileged_user`: euid not 0; else uid 0 of a user namespace) can
// make only where the host delegated them. runc's rootless rules: a
// cgroup that can be made is used, limits included; one that cannot is left out when the config
// asks for no limit and names no .linux.cgroupsPath (the container runs in the runtime's cgroup),
// and is an error naming the field otherwise.
bool userns_can_have_cgroup(const spec::Spec& spec, const std::vector<std::string>& dirs, bool unprivileged_user = false);

// Whether the config asks a cgroup for limits, device rules aside (in a user namespace no device
// node can be made, so rules add nothing there).
bool asks_for_limits(const spec::Spec& spec);

}  // namespace crunlite::planning
