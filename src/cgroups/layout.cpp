#include <cerrno>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "util/text.hpp"

namespace crunlite::cgroups {

Layout detect_layout() {
    Layout layout;
    std::string mountinfo;
    // A busy host can have tens of thousands of mounts: no small limit here.
    if (!text::read_file("/proc/self/mountinfo", mountinfo, size_t(256) << 20)) throw Error("read /proc/self/mountinfo", errno);
    bool have_v1 = false, have_v2 = false;
    for (std::string_view line : text::split(mountinfo, '\n')) {
        // mountinfo: id parent maj:min root mount-point options [optional...] - fstype source super-options
        std::vector<std::string_view> fields = text::split(line, ' ');
        if (fields.size() < 7 || fields[4].substr(0, 14) != "/sys/fs/cgroup") continue;
        size_t dash = 6;
        while (dash < fields.size() && fields[dash] != "-") ++dash;
        if (dash + 1 >= fields.size()) continue;
        std::string_view fstype = fields[dash + 1];
        std::string_view super_options = dash + 3 < fields.size() ? fields[dash + 3] : std::string_view();
        std::string mount_point(fields[4]);
        if (fstype == "cgroup2") {
            layout.hierarchies.push_back({mount_point, "", true});
            have_v2 = true;
        } else if (fstype == "cgroup") {
            std::string controllers;
            for (std::string_view opt : text::split(super_options, ',')) {
                if (opt == "rw" || opt == "ro" || opt == "relatime" || opt == "noatime" || opt == "nosuid" ||
                    opt == "nodev" || opt == "noexec" || opt.substr(0, 13) == "release_agent" || opt == "xattr" ||
                    opt == "clone_children" || opt == "noprefix" || opt == "cpuset_v2_mode")
                    continue;
                if (!controllers.empty()) controllers += ',';
                controllers += opt;
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
    std::vector<std::string_view> parts;
    for (std::string_view part : text::split(path, '/')) {
        if (part == ".") continue;
        if (part == "..") throw SpecError(".linux.cgroupsPath", "must not contain \"..\"");
        parts.push_back(part);
    }
    if (parts.empty()) throw SpecError(".linux.cgroupsPath", "must not be the root cgroup");
    std::string out;
    for (auto& p : parts) {
        out += '/';
        out += p;
    }
    return out;
}

}  // namespace crunlite::cgroups
