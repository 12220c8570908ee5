// Where the systemd cgroup driver puts a container: linux.cgroupsPath read as runc reads it
// with --systemd-cgroup, "slice:prefix:name". Pure string work, unit-tested without systemd.
//
//   "system.slice:docker:abc"  -> unit docker-abc.scope in system.slice,
//                                 cgroup /system.slice/docker-abc.scope
//   ":libpod:abc"              -> the slice defaults to system.slice
//   "a-b.slice:p:n"            -> nested slices: /a.slice/a-b.slice/p-n.scope
//   "-:p:n"                    -> the root slice: /p-n.scope
//   "system.slice:p:x.slice"   -> a name ending in ".slice" makes a slice unit, the prefix
//                                 is ignored: /x.slice (systemd wants a sub-slice of
//                                 system.slice named system-x.slice)
//   ""                         -> as ":crun-lite:<id>"
#pragma once
#include <string>

namespace crunlite::cgroups::systemd {

struct UnitPlacement {
    std::string slice;        // the parent slice unit ("system.slice", "-.slice")
    std::string unit;         // "docker-abc.scope", or "x.slice"
    bool is_slice = false;    // the unit is a slice: it takes no PIDs, processes join by cgroupfs
    std::string cgroup_path;  // relative to the cgroup2 mount, e.g. "/system.slice/docker-abc.scope"
};

// Throws SpecError(".linux.cgroupsPath", ...) when the path is not slice:prefix:name or a part
// is not a valid unit name.
UnitPlacement place_unit(const std::string& cgroups_path, const std::string& container_id);

// "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "". Throws SpecError naming
// `json_path` when `slice` is not a valid slice name.
std::string expand_slice(const std::string& slice, const std::string& json_path = ".linux.cgroupsPath");

// systemd's rule for unit names: at most 255 bytes of [A-Za-z0-9:_.\-\\@], not empty.
bool is_valid_unit_name(const std::string& name);

}  // namespace crunlite::cgroups::systemd
