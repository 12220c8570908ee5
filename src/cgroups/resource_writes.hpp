// linux.resources -> the cgroup files to write, for v1 and for v2, as pure data (unit-tested
// without root). Applying them to a real cgroup is container_cgroup.cpp's job.
#pragma once
#include <string>
#include <vector>

#include "crunlite/cgroups.hpp"
#include "crunlite/spec.hpp"

namespace crunlite::cgroups {

struct FileWrite {
    std::string file;         // relative to the container's cgroup directory
    std::string value;
    std::string json_path;    // the field it comes from, for errors
    std::string unsupported;  // non-empty: this cgroup version cannot express the field (why)
    bool if_present = false;  // a kernel without the file skips it (hugetlb's .rsvd limits, Linux >= 5.7)
};

struct ControllerWrites {
    std::string controller;  // v1 controller / v2 controller to enable
    std::vector<FileWrite> v1, v2;
};

// Conversions for v2, as runc (>= 1.3.2) and crun (>= 1.23) make them (docs/cgroups.md explains each):
//   cpu.shares (2..262144) -> cpu.weight (1..10000): ceil(10^((l² + 125 l) / 612 - 7/34)), l = log2(shares)
//   blkio weight (10..1000) -> io.weight (1..10000):  1 + (weight - 10) * 9999 / 990
//   memory swap (memory+swap) -> memory.swap.max:     swap - limit
//   cpu quota/period -> cpu.max "quota period" ("max" for no quota)
// hugepageLimits: SIZE's page-fault limit, and its reservation limit (.rsvd) where the kernel has
// one, as runc writes both.
// pids.limit (runtime-spec 1.3, runc >= 1.4), v1 and v2 alike: absent -> no write, negative ->
// "max", 0 and up -> that number (0: no task can fork in).
std::vector<ControllerWrites> resource_writes(const spec::Resources& resources, const std::string& path = ".linux.resources");

// Where one controller's writes go on this host: its v1 hierarchy when the host has one, else
// the cgroup2 hierarchy. `writes` is null when neither can take them.
struct Placement {
    int hierarchy = -1;  // index in Layout::hierarchies
    bool unified = false;
    const std::vector<FileWrite>* writes = nullptr;
    std::string controller;  // the name in that hierarchy ("io" for v1's "blkio" on v2)
};
Placement placement(const Layout& layout, const ControllerWrites& writes);
// Whether the host's cgroup2 root lists `controller` in cgroup.controllers.
bool host_has_v2_controller(const Hierarchy& unified, const std::string& controller);

// What to tell the user when the kernel refuses a cgroup write with `err` (empty: nothing useful).
std::string cgroup_write_hint(int err);

// cpu.shares -> cpu.weight: 2 -> 1, 1024 (v1's default) -> 100 (v2's default), 262144 -> 10000,
// clamped at both ends. 0 ("unset") never reaches here; it gives 1, not runc's 0, which systemd's
// CPUWeight would read as "idle".
uint64_t cpu_shares_to_weight(uint64_t shares);
uint64_t blkio_weight_to_io_weight(uint64_t weight);

}  // namespace crunlite::cgroups
