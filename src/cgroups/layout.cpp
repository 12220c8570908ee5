#include <linux/magic.h>
#include <sys/statfs.h>

#include <cerrno>
#include <climits>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "sys/mount_info.hpp"
#include "util/text.hpp"

namespace crunlite::cgroups {

namespace {

// The controllers a v1 mount's super options name ("cpu,cpuacct", "name=systemd"), without the
// options that are not controllers.
std::string v1_controllers(std::string_view super_options) {
    std::string controllers;
    for (std::string_view opt : text::split(super_options, ',')) {
        if (opt == "rw" || opt == "ro" || opt == "relatime" || opt == "noatime" || opt == "nosuid" || opt == "nodev" ||
            opt == "noexec" || opt.substr(0, 13) == "release_agent" || opt == "xattr" || opt == "clone_children" ||
            opt == "noprefix" || opt == "cpuset_v2_mode")
            continue;
        if (!controllers.empty()) controllers += ',';
        controllers += opt;
    }
    return controllers;
}

bool is_cgroup_filesystem(const std::string& path, bool unified) {
    struct statfs fs{};
    if (::statfs(path.c_str(), &fs) != 0) return false;
    return fs.f_type == (unified ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC);
}

}  // namespace

Layout layout_from_mountinfo(std::string_view mountinfo, const std::string& root) {
    struct Seen {
        std::string mount_point;
        std::string_view fstype, super_options;
    };
    std::vector<Seen> seen;
    for (std::string_view line : text::split(mountinfo, '\n')) {
        std::optional<sys::MountinfoLine> parsed = sys::parse_mountinfo_line(line);
        if (!parsed) continue;
        std::string& mount_point = parsed->mount_point;
        if (mount_point != root && mount_point.rfind(root + "/", 0) != 0) continue;
        // A later mount on the same path hides the earlier one: the last line is what the path shows.
        std::erase_if(seen, [&](const Seen& s) { return s.mount_point == mount_point; });
        seen.push_back({std::move(mount_point), parsed->fstype, parsed->super_options});
    }
    Layout layout;
    bool have_v1 = false, have_v2 = false;
    for (const Seen& s : seen) {
        bool unified = s.fstype == "cgroup2";
        if (!unified && s.fstype != "cgroup") continue;
        // The path must be that cgroup filesystem now: not hidden by a mount over a parent
        // directory, not a line of a namespace whose view differs.
        if (!is_cgroup_filesystem(s.mount_point, unified)) continue;
        layout.hierarchies.push_back({s.mount_point, unified ? "" : v1_controllers(s.super_options), unified});
        (unified ? have_v2 : have_v1) = true;
    }
    if (!have_v1 && !have_v2) throw Error("no cgroup filesystem is mounted under " + root);
    layout.mode = have_v1 ? (have_v2 ? Mode::hybrid : Mode::v1) : Mode::v2;
    return layout;
}

Layout detect_layout() {
    std::string mountinfo;
    // A busy host can have tens of thousands of mounts: no small limit here.
    if (!text::read_file("/proc/self/mountinfo", mountinfo, size_t(256) << 20)) throw Error("read /proc/self/mountinfo", errno);
    return layout_from_mountinfo(mountinfo);
}

// The default path: one level, prefixed. An ID may be NAME_MAX long (it names the state file),
// too long for the prefix. cgroupfs would take the longer name, but the tools that read the tree
// expect names of at most NAME_MAX (struct dirent's d_name), so such a container goes below a
// shared /crun-lite parent instead, the former default, which goes with its last container.
static std::string default_cgroup_path(const std::string& id) {
    if (kDefaultPrefix.size() + id.size() <= NAME_MAX) return "/" + std::string(kDefaultPrefix) + id;
    return "/" + std::string(kSharedParent) + "/" + id;
}

std::string resolve_cgroup_path(const std::string& cgroups_path, const std::string& id, const std::string& own_cgroup) {
    std::string path = cgroups_path.empty() ? default_cgroup_path(id)
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
