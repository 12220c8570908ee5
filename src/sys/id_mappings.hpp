#pragma once
#include <sys/types.h>

#include "crunlite/spec.hpp"

namespace crunlite::sys {

// As root the maps are written directly. An unprivileged parent may write one mapping of its
// own uid/gid (after denying setgroups); several ranges need newuidmap/newgidmap (uidmap package).
void write_id_mappings(pid_t pid, const spec::Linux& linux, bool rootless);

}  // namespace crunlite::sys
