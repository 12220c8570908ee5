// Which mount a file is on, and what /proc/self/mountinfo says about that mount: for the
// mounts whose propagation pivot_root cares about, and for the host mount a container without a
// mount namespace of its own leaves until `delete`.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crunlite/unique_fd.hpp"

namespace crunlite::sys {

// The id of the mount `fd` is on, as /proc/self/mountinfo shows it (reused once the mount is
// gone); 0 when the kernel does not say.
uint64_t mount_id(int fd);
// The 64-bit id the kernel never reuses (STATX_MNT_ID_UNIQUE, Linux 6.8); 0 on older kernels.
uint64_t unique_mount_id(int fd);

struct MountInfo {
    uint64_t id = 0;
    uint64_t parent = 0;
    std::string mount_point;  // unescaped (mountinfo writes space, tab, newline and \ in octal)
    bool shared = false;      // has a "shared:N" peer group
};
// One line of /proc/<pid>/mountinfo:
//   id parent maj:min root mount-point options [optional fields...] - fstype source super-options
// The views point into the line; the mount point is unescaped (mountinfo writes a space, tab,
// newline and backslash of a path as \ooo, in octal).
struct MountinfoLine {
    std::string_view parent, fstype, super_options;
    std::string mount_point;
    bool shared = false;  // a "shared:N" peer group among the optional fields
};
// nullopt for a line without the fields up to the fstype.
std::optional<MountinfoLine> parse_mountinfo_line(std::string_view line);

// The /proc/self/mountinfo line of mount `id`, or nullopt.
std::optional<MountInfo> find_mount(uint64_t id);

// Whether a mount is rooted at `path` itself (statx STATX_ATTR_MOUNT_ROOT; a symlink is not
// followed): a cgroup hierarchy's mount point, say, and none of the directories below it.
bool is_mount_root(const std::string& path);

// The root of the mount holding the directory `dir_fd` (an O_PATH descriptor): the directory
// itself when a mount is rooted there, else the highest directory above it on the same mount.
UniqueFd mount_root_of(int dir_fd);

}  // namespace crunlite::sys
