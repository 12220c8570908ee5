// Cgroups against this host: the layout (v1, hybrid, v2) is detected as create detects it;
// every controller linux.resources needs is there, every file it would write exists, and
// cpuset values name CPUs and memory nodes the host has.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "cgroups/cgroup_file.hpp"
#include "cgroups/resource_writes.hpp"
#include "spec/hints.hpp"
#include "check/checks.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "plan/userns_cgroup.hpp"
#include "sys/user_namespace.hpp"
#include "util/text.hpp"

namespace crunlite::check {
namespace {

const char* mode_name(cgroups::Mode mode) {
    switch (mode) {
        case cgroups::Mode::v1: return "cgroup v1";
        case cgroups::Mode::hybrid: return "hybrid cgroup v1 + v2";
        case cgroups::Mode::v2: return "cgroup v2";
    }
    return "?";
}

bool exists(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

// A v1 hierarchy's root lacks some control files (pids.max...): a file counts as present when
// the hierarchy's root or any cgroup right below it has it.
bool hierarchy_has_file(const std::string& mount_point, const std::string& file) {
    if (exists(mount_point + "/" + file)) return true;
    bool found = false;
    if (DIR* dir = ::opendir(mount_point.c_str())) {
        while (dirent* e = ::readdir(dir)) {
            if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
            if (exists(mount_point + "/" + e->d_name + "/" + file)) {
                found = true;
                break;
            }
        }
        ::closedir(dir);
    }
    return found;
}

}  // namespace

// "0-3,5" -> {0,1,2,3,5}; false when it is not such a list. Blanks around the numbers (a
// file's newline) are fine, as for the kernel.
bool parse_list(const std::string& list, std::set<long>& out) {
    std::vector<unsigned> numbers;
    if (!text::parse_number_list(text::trim_number_list(list), 1u << 16, numbers).empty()) return false;
    out.insert(numbers.begin(), numbers.end());
    return true;
}

namespace {


void check_cpuset_value(const std::string& path, const std::string& value, const std::string& online_file, const char* one,
                        const char* what, Report& report) {
    if (value.empty()) return;
    std::set<long> wanted, online;
    if (!parse_list(value, wanted)) {
        report.error(path, "\"" + value + "\" is not a list of " + what + " such as \"0-2,4\"", "write ranges and numbers separated by commas");
        return;
    }
    std::string online_text = read_small_file(online_file);
    if (online_text.empty() || !parse_list(online_text, online)) return;
    for (long n : wanted)
        if (!online.count(n)) {
            while (!online_text.empty() && isspace((unsigned char)online_text.back())) online_text.pop_back();
            report.error(path, std::string(one) + " " + std::to_string(n) + " is not online on this host (online: " + online_text + ")",
                         "use only " + std::string(what) + " listed in " + online_file);
            return;
        }
}

std::string controllers_of(const cgroups::Layout& layout) {
    std::string out;
    for (auto& h : layout.hierarchies) {
        if (h.unified) {
            std::string v2 = read_small_file(h.mount_point + "/cgroup.controllers");
            while (!v2.empty() && isspace((unsigned char)v2.back())) v2.pop_back();
            if (!v2.empty()) out += (out.empty() ? "" : ", ") + ("v2: " + v2);
        } else if (h.options.rfind("name=", 0) != 0) {
            out += (out.empty() ? "" : ", ") + h.options;
        }
    }
    return out;
}

// This process's cgroup on cgroup v2 ("0::/a/b" in /proc/self/cgroup), or "/".
std::string own_unified_cgroup() {
    std::istringstream own(read_small_file("/proc/self/cgroup"));
    for (std::string line; std::getline(own, line);)
        if (line.rfind("0::/", 0) == 0) return line.substr(3);
    return "/";
}

}  // namespace

// On cgroup v2 the root cgroup has almost no interface files, and a controller's files show
// only in cgroups whose parent enables that controller: the answer comes from a cgroup right
// below the root (or this process's own) that has the file's controller in cgroup.controllers.
// Where there is none (a fresh host whose root offers the controller in cgroup.controllers but
// has not enabled it in cgroup.subtree_control yet) it cannot be told without making a cgroup,
// which check does not do: nullopt, and create, which enables it on the way down, judges.
std::optional<bool> unified_has_file(const std::string& mount_point, const std::string& file, const std::string& own_cgroup) {
    std::string controller = file.substr(0, file.find('.'));
    std::vector<std::string> candidates;
    if (DIR* dir = ::opendir(mount_point.c_str())) {
        while (dirent* e = ::readdir(dir))
            if (e->d_type == DT_DIR && e->d_name[0] != '.') candidates.push_back(mount_point + "/" + e->d_name);
        ::closedir(dir);
    }
    if (own_cgroup.size() > 1 && own_cgroup[0] == '/') candidates.push_back(mount_point + own_cgroup);
    for (const std::string& dir : candidates) {
        if (controller != "cgroup" && !text::has_item(cgroups::read_cgroup_line(dir + "/cgroup.controllers"), controller, ' ')) continue;
        if (exists(dir + "/cgroup.controllers")) return exists(dir + "/" + file);
    }
    return std::nullopt;
}

namespace {

// What create decides for an unprivileged caller (an ordinary user, or uid 0 of a user
// namespace), told ahead: which cgroup is delegated to it and with which controllers, and whether
// the container gets a cgroup there, runs in the runtime's own, or is refused (naming the field).
// With --systemd-cgroup the user's systemd makes the cgroup: check_systemd speaks for that.
void check_unprivileged_cgroups(const Context& ctx, Report& report, const cgroups::Layout& layout) {
    const bool user = ::geteuid() != 0;
    const char* who = user ? "an unprivileged user" : "uid 0 of a user namespace";
    const std::string own = own_unified_cgroup();
    std::string own_dir;
    for (const cgroups::Hierarchy& h : layout.hierarchies)
        if (h.unified) own_dir = h.mount_point + (own == "/" ? "" : own);
    if (own_dir.empty()) {
        report.info(".linux.cgroupsPath", std::string("the runtime runs as ") + who + " on a host without a cgroup v2 hierarchy: "
                                          "no cgroup can be delegated to it");
    } else {
        bool writable = ::faccessat(AT_FDCWD, own_dir.c_str(), W_OK | X_OK, AT_EACCESS) == 0;
        std::string controllers = cgroups::read_cgroup_line(own_dir + "/cgroup.controllers");
        report.info(".linux.cgroupsPath", std::string("the runtime runs as ") + who + " in cgroup " + own +
                                              (writable ? ", which is delegated to it (controllers: " + (controllers.empty() ? "none" : controllers) + ")"
                                                        : ", which is not delegated to it"));
    }
    if (ctx.systemd_cgroup) return;
    std::string path;
    try {
        bool relative = !ctx.spec.linux.cgroups_path.empty() && ctx.spec.linux.cgroups_path[0] != '/';
        path = cgroups::resolve_cgroup_path(ctx.spec.linux.cgroups_path, "<id>", relative ? own : "/");
    } catch (const SpecError& e) {
        report.add_error(e, "", spec::hints::kValues);
        return;
    }
    std::vector<std::string> dirs = cgroups::planned_dirs(layout, path);
    try {
        if (!planning::userns_can_have_cgroup(ctx.spec, dirs, user)) {
            report.info(".linux.cgroupsPath", "no cgroup of its own: nothing is asked of one and the host's cannot be written, so the "
                                              "container runs in the runtime's cgroup (runc's rootless rule)");
            return;
        }
    } catch (const Error& e) {
        report.add_error(e, ".linux.resources", "");
        return;
    }
    report.info(".linux.cgroupsPath", "the container's cgroup " + path + " can be made: it is in a delegated subtree, and the limits go there");
    if (!ctx.spec.linux.resources || layout.mode != cgroups::Mode::v2) return;
    // A limit needs its controller enabled down to the cgroup: already in the nearest existing
    // ancestor's subtree_control, or enabled there by create, which cgroup v2 allows only where
    // the ancestor has the controller and holds no process itself (the runtime's own cgroup,
    // the parent of a relative path, holds the runtime).
    std::string parent = dirs.front();
    while (parent.size() > 1 && !exists(parent)) parent.erase(parent.find_last_of('/'));
    std::string enabled = cgroups::read_cgroup_line(parent + "/cgroup.subtree_control");
    std::string parent_has = cgroups::read_cgroup_line(parent + "/cgroup.controllers");
    bool holds_processes = !cgroups::read_cgroup_line(parent + "/cgroup.procs").empty();
    for (const cgroups::ControllerWrites& cw : cgroups::resource_writes(*ctx.spec.linux.resources)) {
        if (cw.v2.empty() || cw.controller.empty() || cw.controller == "cgroup") continue;
        if (text::has_item(enabled, cw.controller, ' ')) continue;
        if (!text::has_item(parent_has, cw.controller, ' '))
            report.error(cw.v2.front().json_path, "the " + cw.controller + " controller is not delegated to " + parent +
                                                      " (it has: " + (parent_has.empty() ? "none" : parent_has) + ")",
                         "ask for the controller's delegation (systemd: Delegate=" + cw.controller + " in user@.service), or remove the limit");
        else if (holds_processes)
            report.error(cw.v2.front().json_path, "the " + cw.controller + " controller cannot be enabled below " + parent +
                                                      ", which holds processes (cgroup v2 enables controllers only for the children of a "
                                                      "cgroup without processes of its own)",
                         "name a cgroup beside the runtime's own, not below it (an absolute .linux.cgroupsPath in the delegated subtree)");
    }
}

}  // namespace

void check_cgroups(const Context& ctx, Report& report) {
    bool unprivileged = sys::runtime_is_unprivileged();  // as create decides
    if (unprivileged) {
        try {
            check_unprivileged_cgroups(ctx, report, cgroups::detect_layout());
        } catch (const Error& e) {
            report.error(".linux.resources", e.what(), "");
        }
        return;
    }
    cgroups::Layout layout;
    try {
        layout = cgroups::detect_layout();
    } catch (const Error& e) {
        report.error(".linux.resources", e.what(), "mount cgroup2 on /sys/fs/cgroup (or the v1 hierarchies)");
        return;
    }
    if (!report.has_error_under(".linux.cgroupsPath")) {
        try {
            cgroups::resolve_cgroup_path(ctx.spec.linux.cgroups_path, "check", "/");
        } catch (const SpecError& e) {
            report.add_error(e, "", spec::hints::kValues);
        }
    }
    if (!ctx.spec.linux.resources || report.has_error_under(".linux.resources")) return;
    const spec::Resources& resources = *ctx.spec.linux.resources;
    const std::string own_cgroup = own_unified_cgroup();
    for (const cgroups::ControllerWrites& cw : cgroups::resource_writes(resources)) {
        cgroups::Placement place = cgroups::placement(layout, cw);
        const auto& any = cw.v1.empty() ? cw.v2 : cw.v1;
        if (!place.writes) {
            report.error(any.front().json_path, "this host (" + std::string(mode_name(layout.mode)) + ") has no " + cw.controller +
                                                    " cgroup controller (it has: " + controllers_of(layout) + ")",
                         "remove this limit, or run on a host with the " + cw.controller + " controller mounted");
            continue;
        }
        const cgroups::Hierarchy& h = layout.hierarchies[size_t(place.hierarchy)];
        if (place.unified && !cgroups::host_has_v2_controller(h, place.controller)) {
            report.error(place.writes->front().json_path,
                         "the host's cgroup v2 hierarchy has no " + place.controller + " controller (it has: " + controllers_of(layout) + ")",
                         "remove this limit, or enable the controller on the host");
            continue;
        }
        for (const cgroups::FileWrite& w : *place.writes) {
            if (!w.unsupported.empty()) {
                report.error(w.json_path, w.unsupported, "remove it: " + std::string(mode_name(layout.mode)) + " cannot express it");
            } else if (!w.if_present && (h.unified ? !unified_has_file(h.mount_point, w.file, own_cgroup).value_or(true)
                                                   : !hierarchy_has_file(h.mount_point, w.file))) {
                report.error(w.json_path, "this kernel has no cgroup file " + w.file + " in " + h.mount_point,
                             "remove this limit: the host kernel does not offer it");
            }
        }
    }
    if (resources.cpu) {
        check_cpuset_value(".linux.resources.cpu.cpus", resources.cpu->cpus, "/sys/devices/system/cpu/online", "CPU", "CPUs", report);
        check_cpuset_value(".linux.resources.cpu.mems", resources.cpu->mems, "/sys/devices/system/node/online", "memory node", "memory nodes", report);
    }
}

}  // namespace crunlite::check
