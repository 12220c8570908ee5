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
    // "remount": no new mount; the one already at the destination (an earlier entry's) gets the
    // options, as runc's and crun's mount(2) with MS_REMOUNT does.
    bool remount = false;
    // crun's symlink options, bind mounts only: "copy-symlink" makes a symlink source a copy of
    // the symlink at the destination (no mount); "src-nofollow" bind-mounts a symlink source
    // itself rather than what it points to; "dest-nofollow" mounts on the destination as it is
    // in the image (which must exist), a symlink there included, instead of following it.
    bool copy_symlink = false;
    bool src_nofollow = false;
    bool dest_nofollow = false;
    // Filesystem options for fsconfig: ("size", "65536k"), ("newinstance", "") ..., and the JSON
    // path of each (".mounts[2].options[1]"), which names the one the kernel refuses.
    std::vector<std::pair<std::string, std::string>> fs_options;
    std::vector<std::string> fs_option_paths;
    // A bind mount's filesystem options ("mode=755"): mount(2) takes them as data and the kernel
    // ignores data on a bind, so they change nothing; (JSON path, option), for a warning.
    std::vector<std::pair<std::string, std::string>> ignored_on_bind;
};

// Throws crunlite::SpecError naming `json_path` (e.g. ".mounts[2].options[1]") for an option
// this runtime refuses; options it does not know are filesystem options, passed to the
// filesystem (the runtime-spec: as mount(2)'s data), which refuses what it does not take.
MountOptions parse_mount_options(const std::vector<std::string>& options, const std::string& type,
                                 const std::string& json_path);

// "rprivate" -> MS_PRIVATE (recursive=true); returns false for anything else.
bool parse_propagation(const std::string& name, uint64_t& flag, bool& recursive);

}  // namespace crunlite::planning
