// Cgroup placement. The host layout (v1, hybrid or pure v2) is detected at run time from
// /proc/self/mountinfo; a container gets one directory per hierarchy, all removed on delete.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "crunlite/spec.hpp"

namespace crunlite::cgroups {

enum class Mode { v1, hybrid, v2 };

struct Hierarchy {
    std::string mount_point;  // e.g. /sys/fs/cgroup/cpu
    std::string options;      // v1: the controllers or name= option it was mounted with ("cpu", "name=systemd")
    bool unified = false;     // a cgroup2 hierarchy
    std::string name() const { return mount_point.substr(mount_point.rfind('/') + 1); }
};

struct Layout {
    Mode mode = Mode::v2;
    std::vector<Hierarchy> hierarchies;
};

Layout detect_layout();
// The layout that `mountinfo` (the text of /proc/self/mountinfo) shows under `root`: only mounts
// whose path is a cgroup filesystem now (statfs: CGROUP_SUPER_MAGIC or CGROUP2_SUPER_MAGIC, as
// the mountinfo line says), so that a tmpfs or another mount over a hierarchy, or a line naming a
// path that is not one any more, is not taken for a hierarchy. Throws Error when none is left.
Layout layout_from_mountinfo(std::string_view mountinfo, const std::string& root = "/sys/fs/cgroup");

// The default path's names: "/crun-lite-<id>", or "/crun-lite/<id>" below the shared parent.
inline constexpr std::string_view kDefaultPrefix = "crun-lite-";
inline constexpr std::string_view kSharedParent = "crun-lite";

// The cgroup path relative to each hierarchy's root: cgroupsPath when absolute; when relative,
// under the runtime's own cgroup; when empty, "/crun-lite-<id>": one level, so that a start
// makes and a delete removes one directory per hierarchy, and the prefix keeps an ID from naming
// a cgroup of the host's (system.slice) or a control file (tasks); "/crun-lite/<id>" for an ID
// too long for the prefix.
std::string resolve_cgroup_path(const std::string& cgroups_path, const std::string& id, const std::string& own_cgroup);

// v1 device-controller lines ("c 1:3 rwm") for the config's rules plus the standard devices
// every container needs, in the order they must be written.
struct DeviceLine {
    bool allow;
    std::string text;
};
std::vector<DeviceLine> device_cgroup_lines(const spec::Spec& spec);

// `exec --cgroup`: the container's directories `dirs` (one per hierarchy) with runc's --cgroup
// arguments applied: "PATH" moves every one to its existing sub-cgroup PATH,
// "CONTROLLER[,CONTROLLER...]:PATH" those of the v1 hierarchies holding the controllers.
// Throws naming the argument for a missing sub-cgroup, an unknown controller or a "..".
std::vector<std::string> sub_cgroup_dirs(const Layout& layout, const std::vector<std::string>& dirs, const std::vector<std::string>& args);

// Where a container's directories go, one per hierarchy (nothing is created).
std::vector<std::string> planned_dirs(const Layout& layout, const std::string& relative_path);

// The directories of one container, made by make() and removed on destruction unless keep()
// was called (so a failed create leaves no cgroup behind). The cgroup2 directory is made
// before init is cloned (clone3 puts init straight into it), the v1 ones while init sets up.
class ContainerCgroup {
public:
    ContainerCgroup(const Layout& layout, const std::string& relative_path);  // makes nothing
    ContainerCgroup(ContainerCgroup&&) = default;
    ~ContainerCgroup();

    // Makes the directories (and missing parents) in the cgroup2 hierarchy, or in the v1 ones.
    void make(bool unified);
    const std::vector<std::string>& dirs() const { return dirs_; }
    // The dirs of the cgroup2 hierarchy, or of the v1 ones.
    std::vector<std::string> dirs_of(bool unified) const;
    void apply_device_rules(const spec::Spec& spec) const;
    void apply_resources(const spec::Resources& resources) const;
    void keep() { created_.clear(); }

private:
    void make_in(const Hierarchy& hierarchy);
    const Layout& layout_;
    std::string relative_path_;
    std::vector<std::string> dirs_;     // one per hierarchy
    std::vector<std::string> created_;  // the directories this object made, deepest last
};

// Writes linux.resources into a container's directories (one per hierarchy, in the layout's
// order). Each controller goes to its v1 hierarchy when the host has one, else to the cgroup2
// hierarchy (enabling it in the ancestors' cgroup.subtree_control); a value the host cannot
// take fails naming its JSON path.
void apply_resources(const Layout& layout, const std::vector<std::string>& dirs, const spec::Resources& resources,
                     const std::string& json_path = ".linux.resources");

// True when the resources would write nothing (only zeros and empty lists).
bool resource_writes_empty(const spec::Resources& resources);

// PIDs in a container's cgroup and the cgroups below it (from the first hierarchy with a
// cgroup.procs).
std::vector<int> pids_in(const std::vector<std::string>& dirs);

// SIGKILL to every process in the container's cgroup trees: cgroup.kill where the kernel has
// it, otherwise signals until the trees are empty.
void kill_all(const std::vector<std::string>& dirs);

// The freezer: v1's freezer.state where a freezer hierarchy exists (v1 and hybrid hosts),
// v2's cgroup.freeze otherwise. Both wait until the kernel reports the new state.
void set_frozen(const std::vector<std::string>& dirs, bool frozen);
bool is_frozen(const std::vector<std::string>& dirs);

// runc's `events` statistics (cpu, memory, pids, hugetlb) of a container's directories.
nlohmann::json stats(const std::vector<std::string>& dirs);
// How many processes the kernel's OOM killer ended in these cgroups so far.
uint64_t oom_kill_count(const std::vector<std::string>& dirs);

// rmdir every directory and the cgroups below it; retries while the kernel still counts
// exiting tasks. A shared "crun-lite" parent (/crun-lite/<id>: the former default, still that of
// an ID too long for the prefix) goes with its last container.
void remove(const std::vector<std::string>& dirs);
// One rmdir per directory (and the shared parent when it is the last), no retries: false when
// any is still busy (tasks, or cgroups below).
bool remove_if_empty(const std::vector<std::string>& dirs);

}  // namespace crunlite::cgroups
