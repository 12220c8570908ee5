// The systemd unit properties of a container's scope: what StartTransientUnit and
// SetUnitProperties carry. Built from linux.resources (what systemd can express itself, so that
// a `systemctl daemon-reload` re-applies the same limits instead of undoing them) and from
// `org.systemd.property.<Name>` annotations (runc's syntax). Pure data, unit-tested.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "crunlite/spec.hpp"

namespace crunlite::cgroups::systemd {

// One D-Bus value, by its signature: b y n q i u x t d s as au ay.
using PropertyValue = std::variant<bool, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t, uint64_t, double, std::string,
                                   std::vector<std::string>, std::vector<uint32_t>, std::vector<uint8_t>>;

struct UnitProperty {
    std::string name;
    PropertyValue value;
};

// systemd's "infinity" for a uint64 limit.
inline constexpr uint64_t kInfinity = UINT64_MAX;

// The resource properties systemd knows (MemoryMax, MemoryLow, MemorySwapMax, CPUWeight,
// CPUQuotaPerSecUSec, CPUQuotaPeriodUSec, AllowedCPUs, AllowedMemoryNodes, TasksMax, IOWeight),
// as runc computes them. Everything else goes through the cgroup files only.
std::vector<UnitProperty> resource_properties(const spec::Resources& resources);

// The properties a container's scope always gets: description, slice, delegation, accounting.
std::vector<UnitProperty> scope_properties(const std::string& container_id, const std::string& slice, bool is_slice);

// `org.systemd.property.<Name>` annotations, values in GVariant text form ("uint64 123",
// "true", "'text'", "['a', 'b']"). A name ending in "Sec" is given in seconds and becomes
// <Name minus Sec>USec in microseconds, as runc does. Throws SpecError naming
// ".annotations[\"org.systemd.property.<Name>\"]" for a bad name or value.
std::vector<UnitProperty> annotation_properties(const std::map<std::string, std::string>& annotations);

// "0-2,7" -> the little-endian bit mask systemd's AllowedCPUs takes (byte 0 bit 0 = CPU 0).
// Throws SpecError naming `json_path` when the list does not parse.
std::vector<uint8_t> cpu_list_to_mask(const std::string& list, const std::string& json_path);

// A value as `systemctl show` would print it, for `check` and messages.
std::string to_text(const PropertyValue& value);

}  // namespace crunlite::cgroups::systemd
