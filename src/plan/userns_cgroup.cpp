#include "plan/userns_cgroup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"

namespace crunlite::planning {
namespace {

// The directory's nearest existing ancestor (itself if it exists) when this process may not
// create entries there; "" when it may. Permission is the kernel's own answer for our
// credentials (AT_EACCESS): in a user namespace only the owner's bits count on the host's files.
std::string unwritable_ancestor(std::string dir) {
    while (!dir.empty() && dir != "/") {
        if (::faccessat(AT_FDCWD, dir.c_str(), F_OK, AT_EACCESS) == 0)
            return ::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) == 0 ? "" : dir;
        dir.erase(dir.find_last_of('/'));
    }
    return "/";
}

}  // namespace

bool asks_for_limits(const spec::Spec& spec) {
    if (!spec.linux.resources) return false;
    spec::Resources limits = *spec.linux.resources;
    limits.devices.clear();
    return !cgroups::resource_writes_empty(limits);
}

bool userns_can_have_cgroup(const spec::Spec& spec, const std::vector<std::string>& dirs, bool unprivileged_user) {
    std::string denied;
    for (const std::string& dir : dirs)
        if (denied = unwritable_ancestor(dir); !denied.empty()) break;
    if (denied.empty()) return true;
    const char* hint = unprivileged_user ? "delegate a cgroup to this user (systemd: Delegate=yes, as user@.service has), "
                                           "or run without limits and without .linux.cgroupsPath"
                                         : "delegate a cgroup to the user that owns this user namespace (systemd: Delegate=yes), "
                                           "or run without limits and without .linux.cgroupsPath";
    std::string who = unprivileged_user ? "an unprivileged user" : "the runtime runs in a user namespace that";
    if (asks_for_limits(spec))
        throw Error(JsonPath{".linux.resources"}, "limits need a cgroup, and " + who + " cannot write " + denied,
                    EACCES, hint);
    if (!spec.linux.cgroups_path.empty())
        throw Error(JsonPath{".linux.cgroupsPath"}, (unprivileged_user ? "an unprivileged user cannot write " : "the runtime runs in a user namespace that cannot write ") + denied, EACCES, hint);
    return false;
}

}  // namespace crunlite::planning
