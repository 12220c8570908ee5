#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "cgroups/cgroup_file.hpp"
#include "cgroups/resource_writes.hpp"

namespace crunlite::cgroups {
namespace {

struct PendingWrite {
    std::string path;
    const FileWrite* write;
    int err = 0;
};

// On v2 a controller's files appear only once every ancestor delegates it.
void enable_v2_controller(const Hierarchy& h, const std::string& leaf, const std::string& controller, const std::string& json_path) {
    if (!host_has_v2_controller(h, controller))
        throw Error(json_path + ": the host's cgroup v2 hierarchy has no " + controller + " controller");
    std::string dir = h.mount_point;
    std::istringstream parts(leaf.substr(h.mount_point.size()));
    std::string part;
    while (std::getline(parts, part, '/')) {
        if (part.empty()) continue;
        if (!text::has_item(read_cgroup_line(dir + "/cgroup.subtree_control"), controller, ' ')) {
            int err = try_write_cgroup_file(dir + "/cgroup.subtree_control", "+" + controller);
            if (err) throw Error(json_path + ": enable the " + controller + " controller in " + dir + "/cgroup.subtree_control", err);
        }
        dir += "/" + part;
    }
}

}  // namespace

Placement placement(const Layout& layout, const ControllerWrites& cw) {
    Placement place;
    int v1_index = -1, unified_index = -1;
    for (size_t i = 0; i < layout.hierarchies.size(); ++i) {
        const Hierarchy& h = layout.hierarchies[i];
        if (h.unified) unified_index = int(i);
        else if (text::has_item(h.options, cw.controller, ',')) v1_index = int(i);
    }
    if (v1_index >= 0 && !cw.v1.empty()) {
        place = {v1_index, false, &cw.v1, cw.controller};
    } else if (unified_index >= 0 && !cw.v2.empty()) {
        place = {unified_index, true, &cw.v2, cw.controller == "blkio" ? "io" : cw.controller};
    }
    return place;
}

bool host_has_v2_controller(const Hierarchy& unified, const std::string& controller) {
    return text::has_item(read_cgroup_line(unified.mount_point + "/cgroup.controllers"), controller, ' ');
}

bool resource_writes_empty(const spec::Resources& resources) { return resource_writes(resources).empty(); }

void apply_resources(const Layout& layout, const std::vector<std::string>& dirs, const spec::Resources& resources,
                     const std::string& json_path) {
    const std::vector<ControllerWrites> all_writes = resource_writes(resources, json_path);  // `pending` points into it
    std::vector<PendingWrite> pending;
    for (const ControllerWrites& cw : all_writes) {
        Placement place = placement(layout, cw);
        if (!place.writes) {
            const auto& any = cw.v1.empty() ? cw.v2 : cw.v1;
            throw Error(any.front().json_path + ": this host has no " + cw.controller + " cgroup controller");
        }
        const std::vector<FileWrite>* writes = place.writes;
        std::string dir = dirs.at(size_t(place.hierarchy));
        if (place.unified) {
            const FileWrite& first = cw.v2.front();
            if (first.unsupported.empty())
                enable_v2_controller(layout.hierarchies[size_t(place.hierarchy)], dir, place.controller, first.json_path);
        }
        for (const FileWrite& w : *writes) {
            if (!w.unsupported.empty()) throw Error(w.json_path + ": " + w.unsupported);
            pending.push_back({dir + "/" + w.file, &w});
        }
    }
    // Some pairs only take one order (v1's memory limit must stay below memory+swap, a
    // new cpu period may need the quota first): failures get a second pass after the rest.
    for (int pass = 0; pass < 2; ++pass) {
        for (auto& p : pending) {
            if (pass == 0 || p.err) p.err = try_write_cgroup_file(p.path, p.write->value);
            if (p.err == ENOENT && p.write->if_present) p.err = 0;  // this kernel has no such file
        }
    }
    for (auto& p : pending) {
        if (!p.err) continue;
        throw Error(p.write->json_path + ": write \"" + p.write->value + "\" to " + p.path, p.err, cgroup_write_hint(p.err));
    }
}

}  // namespace crunlite::cgroups
