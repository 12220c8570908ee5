// --systemd-cgroup, as create and restore both use it: where the container's transient unit
// goes, what it says, and the connection that will start it. Everything that can be refused is
// refused here, before anything of the container exists.
#pragma once
#include <string>
#include <vector>

#include "cgroups/systemd/bus.hpp"
#include "cgroups/systemd/unit_placement.hpp"
#include "cgroups/systemd/unit_properties.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/spec.hpp"

namespace crunlite::runtime {

struct SystemdUnitPlan {
    cgroups::systemd::UnitPlacement placement;  // its cgroup_path is where the manager puts it
    std::vector<cgroups::systemd::UnitProperty> properties;  // the limits and annotations included
    cgroups::systemd::Manager manager;
    cgroups::systemd::Bus bus;  // a started unit keeps a pointer to it: never moved after that
};

// A rootless caller's unit is its user's systemd's (as with runc and crun), under that
// instance's own cgroup. Throws naming .linux.cgroupsPath, or saying that the host is not pure
// cgroup v2, or that systemd does not answer.
SystemdUnitPlan plan_systemd_unit(const spec::Spec& spec, const std::string& id, const cgroups::Layout& layout,
                                  cgroups::systemd::Manager manager);

}  // namespace crunlite::runtime
