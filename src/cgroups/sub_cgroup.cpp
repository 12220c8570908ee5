// `exec --cgroup`: the directories an exec'd process enters when it goes to a sub-cgroup of the
// container's cgroup instead of the cgroup itself, with runc's syntax: "PATH" for every
// hierarchy (the only form cgroup v2 has), or "CONTROLLER[,CONTROLLER...]:PATH" for the v1
// hierarchies holding those controllers, the others keeping the container's cgroup.
#include <sys/stat.h>

#include <map>
#include <optional>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "util/text.hpp"

namespace crunlite::cgroups {
namespace {

// PATH below the container's cgroup, normalised ("/a/./b/" is "a/b"); ".." could leave it.
std::string relative_sub_path(const std::string& arg, const std::string& path) {
    std::string out;
    for (std::string_view part : text::split(path, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..") throw Error("--cgroup " + arg + ": must not contain \"..\": the process stays within the container's cgroup");
        if (!out.empty()) out += '/';
        out += part;
    }
    return out;
}

// The v1 hierarchy whose controllers (its mount options: "cpu,cpuacct", "name=systemd") hold `controller`.
const Hierarchy* hierarchy_of(const Layout& layout, std::string_view controller) {
    for (auto& h : layout.hierarchies)
        if (!h.unified && text::has_item(h.options, controller)) return &h;
    return nullptr;
}

bool under(const std::string& dir, const std::string& mount_point) {
    return dir.size() > mount_point.size() && dir.compare(0, mount_point.size(), mount_point) == 0 && dir[mount_point.size()] == '/';
}

}  // namespace

std::vector<std::string> sub_cgroup_dirs(const Layout& layout, const std::vector<std::string>& dirs, const std::vector<std::string>& args) {
    if (dirs.empty()) throw Error("--cgroup: the container has no cgroups of its own (it was created without root)");
    std::map<std::string, std::pair<std::string, std::string>> by_mount;  // hierarchy -> (sub path, the argument)
    std::optional<std::pair<std::string, std::string>> everywhere;
    for (const std::string& arg : args) {
        auto colon = arg.find(':');
        if (colon == std::string::npos) {
            if (args.size() != 1)
                throw Error("--cgroup " + arg + ": a PATH without CONTROLLER: must be the only --cgroup", 0,
                            "give one --cgroup PATH for every hierarchy, or CONTROLLER:PATH for each");
            everywhere.emplace(relative_sub_path(arg, arg), arg);
            continue;
        }
        std::string sub = relative_sub_path(arg, arg.substr(colon + 1));
        for (std::string_view controller : text::split(std::string_view(arg).substr(0, colon), ',')) {
            if (controller.empty()) throw Error("--cgroup " + arg + ": an empty controller name");
            const Hierarchy* h = hierarchy_of(layout, controller);
            if (!h)
                throw Error("--cgroup " + arg + ": no cgroup v1 hierarchy of controller \"" + std::string(controller) + "\" on this host", 0,
                            layout.mode == Mode::v2 ? "cgroup v2 has one hierarchy: give --cgroup PATH" : "");
            auto [it, fresh] = by_mount.try_emplace(h->mount_point, sub, arg);
            if (!fresh && it->second.first != sub)
                throw Error("--cgroup " + arg + ": controller \"" + std::string(controller) + "\" shares its hierarchy (" + h->mount_point +
                            ") with " + it->second.second + ", which names another path");
        }
    }
    std::vector<std::string> out;
    for (const std::string& dir : dirs) {
        const std::pair<std::string, std::string>* chosen = everywhere ? &*everywhere : nullptr;
        for (auto& [mount_point, sub] : by_mount)
            if (under(dir, mount_point)) chosen = &sub;
        if (!chosen || chosen->first.empty()) {
            out.push_back(dir);
            continue;
        }
        std::string path = dir + "/" + chosen->first;
        struct stat st{};
        if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            throw Error("--cgroup " + chosen->second + ": no such sub-cgroup of the container: " + path, 0,
                        "create it first (mkdir " + path + "); exec does not create cgroups");
        out.push_back(path);
    }
    return out;
}

}  // namespace crunlite::cgroups
