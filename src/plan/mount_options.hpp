// Turns a config.json mount's "options" list into what the new mount API wants:
// superblock options for fsconfig, per-mount attributes for fsmount/mount_setattr,
// and propagation. Pure logic: unit-tested without root.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace crunlite::planning {

struct MountOptions {
    bool bind = false;
    bool recursive_bind = false;
    uint64_t attr_set = 0;            // MOUNT_ATTR_* on the top mount
    uint64_t attr_clear = 0;
    uint64_t recursive_attr_set = 0;  // from "rro", "rnosuid", ...: applied with AT_RECURSIVE
    uint64_t recursive_attr_clear = 0;
    bool tmpcopyup = false;           // tmpfs starts with a copy of what the image has at the destination
    bool idmap = false;               // "idmap"/"ridmap" or mappings on the mount: an idmapped bind
    bool recursive_idmap = false;
    uint64_t propagation = 0;         // MS_PRIVATE / MS_SLAVE / MS_SHARED / MS_UNBINDABLE, or 0
    bool recursive_propagation = false;
    // Filesystem options for fsconfig: ("size", "65536k"), ("newinstance", "") ...
    std::vector<std::pair<std::string, std::string>> fs_options;
};

// Throws crunlite::SpecError naming `json_path` (e.g. ".mounts[2].options[1]") for an option
// this runtime refuses; unknown options are passed to the filesystem, as mount(8) does.
MountOptions parse_mount_options(const std::vector<std::string>& options, const std::string& type,
                                 const std::string& json_path);

// "rprivate" -> MS_PRIVATE (recursive=true); returns false for anything else.
bool parse_propagation(const std::string& name, uint64_t& flag, bool& recursive);

}  // namespace crunlite::planning
