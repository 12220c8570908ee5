#include "runtime/systemd_unit_plan.hpp"

#include "crunlite/error.hpp"

namespace crunlite::runtime {

SystemdUnitPlan plan_systemd_unit(const spec::Spec& spec, const std::string& id, const cgroups::Layout& layout,
                                  cgroups::systemd::Manager manager) {
    namespace sd = cgroups::systemd;
    sd::UnitPlacement placement = sd::place_unit(spec.linux.cgroups_path, id);
    if (layout.mode != cgroups::Mode::v2)
        throw Error("--systemd-cgroup: this host has cgroup v1 hierarchies; crun-lite drives systemd on pure cgroup v2 hosts only", 0,
                    "boot with systemd.unified_cgroup_hierarchy=1, or leave out --systemd-cgroup and give a cgroupfs .linux.cgroupsPath");
    std::vector<sd::UnitProperty> properties = sd::scope_properties(id, placement.slice, placement.is_slice);
    if (spec.linux.resources)
        for (auto& p : sd::resource_properties(*spec.linux.resources)) properties.push_back(std::move(p));
    for (auto& p : sd::annotation_properties(spec.annotations)) properties.push_back(std::move(p));
    sd::Bus bus = sd::Bus::connect(manager);
    if (manager == sd::Manager::user) {
        std::string base = bus.control_group();
        if (base == "/") base.clear();
        placement.cgroup_path = base + placement.cgroup_path;
    }
    return {std::move(placement), std::move(properties), manager, std::move(bus)};
}

}  // namespace crunlite::runtime
