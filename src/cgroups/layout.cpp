#include <fstream>
#include <sstream>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"

namespace crunlite::cgroups {

Layout detect_layout() {
    Layout layout;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    bool have_v1 = false, have_v2 = false;
    while (std::getline(in, line)) {
        // mountinfo: id parent maj:min root mount-point options [optional...] - fstype source super-options
        std::istringstream fields(line);
        std::string id, parent, dev, root, mount_point, options, field;
        fields >> id >> parent >> dev >> root >> mount_point >> options;
        while (fields >> field && field != "-") {}
        std::string fstype, source, super_options;
        fields >> fstype >> source >> super_options;
        if (mount_point.rfind("/sys/fs/cgroup", 0) != 0) continue;
        if (fstype == "cgroup2") {
            layout.hierarchies.push_back({mount_point, "", true});
            have_v2 = true;
        } else if (fstype == "cgroup") {
            std::string controllers;
            std::istringstream opts(super_options);
            std::string opt;
            while (std::getline(opts, opt, ',')) {
                if (opt == "rw" || opt == "ro" || opt == "relatime" || opt == "noatime" || opt == "nosuid" ||
                    opt == "nodev" || opt == "noexec" || opt.rfind("release_agent", 0) == 0 || opt == "xattr" ||
                    opt == "clone_children" || opt == "noprefix" || opt == "cpuset_v2_mode")
                    continue;
                controllers += (controllers.empty() ? "" : ",") + opt;
            }
            layout.hierarchies.push_back({mount_point, controllers, false});
            have_v1 = true;
        }
    }
    if (!have_v1 && !have_v2) throw Error("no cgroup filesystem is mounted under /sys/fs/cgroup");
    layout.mode = have_v1 ? (have_v2 ? Mode::hybrid : Mode::v1) : Mode::v2;
    return layout;
}

std::string resolve_cgroup_path(const std::string& cgroups_path, const std::string& id, const std::string& own_cgroup) {
    std::string path = cgroups_path.empty() ? "/crun-lite/" + id
                       : cgroups_path[0] == '/' ? cgroups_path
                                                : (own_cgroup == "/" ? "" : own_cgroup) + "/" + cgroups_path;
    // Normalise and refuse escapes: the path is joined under each hierarchy's mount point.
    std::vector<std::string> parts;
    std::istringstream ss(path);
    std::string part;
    while (std::getline(ss, part, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..") throw SpecError(".linux.cgroupsPath", "must not contain \"..\"");
        parts.push_back(part);
    }
    if (parts.empty()) throw SpecError(".linux.cgroupsPath", "must not be the root cgroup");
    std::string out;
    for (auto& p : parts) out += "/" + p;
    return out;
}

}  // namespace crunlite::cgroups
