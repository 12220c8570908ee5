// Kept apart from the resource writes so that everything writing a cgroup file (freezer, exec's
// join, the fuzz targets' copy of the state code) links it without the resource mapping.
#include <cerrno>
#include <string>

#include "cgroups/resource_writes.hpp"

namespace crunlite::cgroups {

std::string cgroup_write_hint(int err) {
    switch (err) {
        case ENOENT: return "the host kernel lacks this cgroup file; `crun-lite check` lists what this host offers";
        case EINVAL: return "the kernel refused the value: check its range and format (`crun-lite check` compares cpusets with the host)";
        case ERANGE: return "the value is outside what the kernel accepts here (a cpuset naming CPUs or memory nodes this host lacks?); `crun-lite check` compares it with the host";
        case EPERM:
        case EACCES: return "the cgroup is not writable by this user: run as root, or delegate the cgroup";
        case EBUSY: return "the value conflicts with the cgroup's current use (a memory limit below current usage, or a cpuset in use by a child)";
        case ENOSPC: return "no room left under the parent cgroup's own limits (v1 cpuset: the parent's cpus/mems)";
        default: return "";
    }
}

}  // namespace crunlite::cgroups
