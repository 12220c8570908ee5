#include "cgroups/systemd/scope.hpp"

#include "cgroups/cgroup_file.hpp"
#include "crunlite/error.hpp"
#include "crunlite/log.hpp"

namespace crunlite::cgroups::systemd {

ContainerUnit ContainerUnit::start(Bus& bus, const UnitPlacement& placement, const std::string& cgroup_dir, pid_t pid,
                                   std::vector<UnitProperty> properties) {
    if (!placement.is_slice) properties.push_back({"PIDs", std::vector<uint32_t>{uint32_t(pid)}});
    // Owned from the moment systemd took the call, not only once its job is done: a job that
    // fails or outlasts the timeout leaves no unit behind. (Before that the name may be another
    // container's, which is not ours to stop.)
    std::optional<ContainerUnit> unit;
    bus.start_transient_unit(placement.unit, properties, [&] { unit.emplace(ContainerUnit(&bus, placement.unit)); });
    if (placement.is_slice) write_cgroup_file(cgroup_dir + "/cgroup.procs", std::to_string(pid));
    return std::move(*unit);
}

ContainerUnit::ContainerUnit(ContainerUnit&& other) noexcept : bus_(other.bus_), unit_(std::move(other.unit_)) {
    other.bus_ = nullptr;
}

ContainerUnit::~ContainerUnit() {
    if (!bus_) return;
    try {
        remove_unit(*bus_, unit_);
    } catch (const std::exception& e) {
        log::warning("could not remove systemd unit " + unit_ + " of the failed create or restore: " + e.what());
    }
}

void remove_unit(Bus& bus, const std::string& unit) {
    bus.stop_unit(unit);
    bus.reset_failed_unit(unit);
}

}  // namespace crunlite::cgroups::systemd
