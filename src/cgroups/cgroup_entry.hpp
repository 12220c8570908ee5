// How a new process (init or an exec) enters a container's cgroups without the parent
// writing its pid to cgroup.procs. That write takes the kernel's global threadgroup lock,
// whose first writer waits an RCU grace period (10-15 ms on these hosts, most of a start).
// Instead:
//  - cgroup2: clone3(CLONE_INTO_CGROUP) puts the child there as it is born;
//  - each v1 hierarchy: the child writes "0" to the `tasks` file, which moves only the
//    calling thread and so skips that lock (the kernel skips it only for "0": a tid written
//    by another process takes it). The files are opened by the parent with its credentials:
//    for exec before clone; for create after clone (the v1 directories are made while init
//    creates its namespaces), sent to init over the sync socket.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "crunlite/unique_fd.hpp"

namespace crunlite::cgroups {

struct CgroupEntry {
    UniqueFd unified_dir;  // the cgroup2 directory, for CLONE_INTO_CGROUP (-1: none)
    std::string unified_path;
    std::vector<UniqueFd> v1_tasks;  // `tasks` of each v1 hierarchy, opened for writing
    std::vector<std::string> v1_tasks_paths;
};

// One open per container directory; a directory on cgroup2 is found by its file system.
CgroupEntry open_cgroup_entry(const std::vector<std::string>& dirs);
// The `tasks` files of directories known to be on v1 hierarchies, opened for writing.
std::vector<UniqueFd> open_v1_tasks(const std::vector<std::string>& dirs);

// In the child: moves the calling thread into every v1 hierarchy. Throws naming the file.
void enter_v1_hierarchies(std::span<const UniqueFd> tasks, const std::vector<std::string>& paths);

}  // namespace crunlite::cgroups
