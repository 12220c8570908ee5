// Whether the runtime itself runs in a user namespace other than the host's.
#pragma once
#include <string_view>

namespace crunlite::sys {

// True when this process's user namespace is not the initial one. Rootless podman and docker run
// the runtime as uid 0 of a user namespace they made: a root with no privilege over the host's
// cgroups, device numbers or global knobs.
bool in_user_namespace();

// The one rule for "the host's cgroups, devices and knobs are not ours": an effective uid other
// than 0 (rootless), or uid 0 of a user namespace (what rootless podman and docker give us).
// Decided by the effective uid whatever --rootless says, as create, exec and check all do.
bool runtime_is_unprivileged();

// Whether `uid_map` (the text of /proc/<pid>/uid_map) is the initial namespace's: one line mapping
// the whole range onto itself ("0 0 4294967295"), as runc and crun tell it.
bool is_initial_uid_map(std::string_view uid_map);

}  // namespace crunlite::sys
