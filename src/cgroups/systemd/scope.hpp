// A container's systemd unit (a transient scope, or a slice when cgroupsPath names one), owned
// like the other things create and restore make: stopped again on destruction unless keep() was
// called, so that a failed create or restore leaves no unit behind, neither active nor failed.
#pragma once
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "cgroups/systemd/bus.hpp"
#include "cgroups/systemd/unit_placement.hpp"
#include "cgroups/systemd/unit_properties.hpp"

namespace crunlite::cgroups::systemd {

class ContainerUnit {
public:
    // StartTransientUnit with `pid` in it (a scope moves it there itself; a slice takes no pids,
    // and the pid is written to the cgroup.procs of `cgroup_dir`, the unit's directory), waiting
    // for systemd's job.
    static ContainerUnit start(Bus& bus, const UnitPlacement& placement, const std::string& cgroup_dir, pid_t pid,
                               std::vector<UnitProperty> properties);
    ContainerUnit(ContainerUnit&&) noexcept;
    ContainerUnit& operator=(ContainerUnit&&) = delete;
    ~ContainerUnit();
    void keep() { bus_ = nullptr; }

private:
    ContainerUnit(Bus* bus, std::string unit) : bus_(bus), unit_(std::move(unit)) {}
    Bus* bus_;
    std::string unit_;
};

// `delete`: stops the unit and resets it if it failed, so that none is left. The processes
// are gone by then, so the stop is quick; a unit systemd already collected is no error.
void remove_unit(Bus& bus, const std::string& unit);

}  // namespace crunlite::cgroups::systemd
