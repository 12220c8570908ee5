// `update`: apply new resource limits to a running container's cgroups.
#include "cgroups/systemd/bus.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"

namespace crunlite::runtime {

void update(const std::string& root, const std::string& id, const nlohmann::json& json, const std::string& json_path) {
    state::StateFile state_file = state::StateFile::open(root, id);
    if (state_file.status() == state::Status::stopped) throw Error("container not running");
    spec::Resources resources;
    try {
        resources = spec::parse_resources(json, json_path);
    } catch (const SpecError& e) {
        throw Error(e.what());
    }
    if (!resources.devices.empty()) throw Error(json_path + ".devices: device rules cannot be changed by update");
    cgroups::Layout layout = cgroups::detect_layout();
    if (layout.hierarchies.size() != state_file.record().cgroup_dirs.size())
        throw Error("the host's cgroup hierarchies changed since the container was created");
    if (resources.memory && resources.memory->check_before_update && resources.memory->limit && *resources.memory->limit > 0) {
        // checkBeforeUpdate: refuse a memory limit below what the container already uses.
        auto stats = cgroups::stats(state_file.record().cgroup_dirs);
        uint64_t usage = stats["memory"]["usage"].value("usage", uint64_t(0));
        if (usage > uint64_t(*resources.memory->limit))
            throw Error(json_path + ".memory.limit: the container uses " + std::to_string(usage) + " bytes, more than the new limit " +
                        std::to_string(*resources.memory->limit) + " (checkBeforeUpdate)");
    }
    // Under systemd the unit's properties change too: a `systemctl daemon-reload` re-applies
    // them, and would otherwise put the old limits back.
    if (const std::string& unit = state_file.record().systemd_unit; !unit.empty()) {
        bool user = state_file.record().systemd_user;
        cgroups::systemd::Bus bus = cgroups::systemd::Bus::connect(user ? cgroups::systemd::Manager::user : cgroups::systemd::Manager::system);
        bus.set_unit_properties(unit, cgroups::systemd::resource_properties(resources));
    }
    cgroups::apply_resources(layout, state_file.record().cgroup_dirs, resources, json_path);
}

}  // namespace crunlite::runtime
