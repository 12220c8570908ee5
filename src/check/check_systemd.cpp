// --systemd-cgroup against this host: systemd answers, the cgroupsPath names a unit it takes,
// and which resource each unit property will carry (what goes through systemd; the cgroup files
// take the rest).
#include <unistd.h>

#include "cgroups/systemd/bus.hpp"
#include "cgroups/systemd/unit_placement.hpp"
#include "cgroups/systemd/unit_properties.hpp"
#include "spec/hints.hpp"
#include "check/checks.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "sys/user_namespace.hpp"

namespace crunlite::check {
namespace {

constexpr const char* kField = ".linux.cgroupsPath";

// The config field a resource property comes from, for the report.
std::string source_of(const std::string& property) {
    static const std::pair<const char*, const char*> kSources[] = {
        {"MemoryMax", ".linux.resources.memory.limit"},       {"MemoryLow", ".linux.resources.memory.reservation"},
        {"MemorySwapMax", ".linux.resources.memory.swap"},     {"CPUWeight", ".linux.resources.cpu.shares"},
        {"CPUQuotaPerSecUSec", ".linux.resources.cpu.quota"},  {"CPUQuotaPeriodUSec", ".linux.resources.cpu.period"},
        {"AllowedCPUs", ".linux.resources.cpu.cpus"},          {"AllowedMemoryNodes", ".linux.resources.cpu.mems"},
        {"TasksMax", ".linux.resources.pids.limit"},           {"IOWeight", ".linux.resources.blockIO.weight"},
    };
    for (auto& [name, path] : kSources)
        if (property == name) return path;
    return ".linux.resources";
}

}  // namespace

void check_systemd(const Context& ctx, Report& report) {
    if (report.has_error_under(kField)) return;
    // As create decides: an unprivileged caller's unit is its user's systemd's.
    bool user_manager = sys::runtime_is_unprivileged();
    std::optional<cgroups::systemd::UnitPlacement> placement;
    try {
        placement = cgroups::systemd::place_unit(ctx.spec.linux.cgroups_path, "<id>");
    } catch (const SpecError& e) {
        report.add_error(e, "", spec::hints::kValues);
        return;
    }
    report.info(kField, "systemd unit " + placement->unit + (placement->is_slice ? "" : " in " + placement->slice) + ", cgroup " +
                            placement->cgroup_path + (ctx.spec.linux.cgroups_path.empty() ? " (the default; <id> is the container's ID)" : ""));
    try {
        if (cgroups::detect_layout().mode != cgroups::Mode::v2)
            report.error(kField, "--systemd-cgroup: this host has cgroup v1 hierarchies; crun-lite drives systemd on pure cgroup v2 hosts only",
                         "boot with systemd.unified_cgroup_hierarchy=1, or leave out --systemd-cgroup");
    } catch (const Error& e) {
        report.error(kField, e.what(), "");
    }
    try {
        cgroups::systemd::Bus bus =
            cgroups::systemd::Bus::connect(user_manager ? cgroups::systemd::Manager::user : cgroups::systemd::Manager::system);
        std::string version = bus.version();
        report.info(kField, "systemd " + version + " answers through " + bus.route());
        if (user_manager)
            report.info(kField, "the unit is the user's systemd's, its cgroup under " + bus.control_group() +
                                    " (the controllers there are those user@.service delegates)");
    } catch (const Error& e) {
        report.error(kField, e.what(), "without systemd, leave out --systemd-cgroup and give a cgroupfs path");
    }
    // Each property the unit will carry, and where it comes from.
    std::vector<cgroups::systemd::UnitProperty> properties;
    try {
        if (ctx.spec.linux.resources) properties = cgroups::systemd::resource_properties(*ctx.spec.linux.resources);
        for (auto& p : properties) report.info(source_of(p.name), "systemd property " + p.name + "=" + cgroups::systemd::to_text(p.value));
        for (auto& p : cgroups::systemd::annotation_properties(ctx.spec.annotations))
            report.info(".annotations[\"org.systemd.property." + p.name + "\"]", "systemd property " + p.name + "=" + cgroups::systemd::to_text(p.value));
    } catch (const SpecError& e) {
        report.add_error(e, "", spec::hints::kValues);
    }
}

}  // namespace crunlite::check
