#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "cgroups/cgroup_file.hpp"
#include "cgroups/device_filter.hpp"
#include "sys/mount_info.hpp"
#include "util/text.hpp"

namespace crunlite::cgroups {
namespace {

bool has_controller(const Hierarchy& h, const std::string& controller) { return text::has_item(h.options, controller); }

// Whether the v1 cpuset `dir`, or one above it up to the hierarchy's root, asks for load
// balancing across its CPUs (cpuset.sched_load_balance).
bool load_balanced_at_or_above(const std::string& mount_point, std::string dir) {
    for (;;) {
        if (read_cgroup_line(dir + "/cpuset.sched_load_balance") == "1") return true;
        if (dir.size() <= mount_point.size()) return false;
        dir.erase(dir.rfind('/'));
    }
}

void rmdir_when_empty(const std::string& dir);

// Pure cgroup v2, as runc and crun make a cgroup path: every level above the container enables
// (in cgroup.subtree_control) each controller it has, so that a container without limits still
// has its memory, pids, io and cpu files, for `events --stats` and for the container itself.
// A refusal (a level holding processes, a controller taken by a threaded subtree) is left as
// it is: limits that need the controller say so when they are written.
void delegate_v2_controllers(const std::string& dir) {
    std::string available = read_cgroup_line(dir + "/cgroup.controllers");
    std::string enabled = read_cgroup_line(dir + "/cgroup.subtree_control");
    std::string missing;
    for (std::string_view controller : text::split(available, ' '))
        if (!text::has_item(enabled, controller, ' ')) missing += " +" + std::string(controller);
    if (missing.empty()) return;
    // One write for all; when the kernel refuses one of them, each on its own.
    if (try_write_cgroup_file(dir + "/cgroup.subtree_control", missing.substr(1)) == 0) return;
    for (std::string_view word : text::split(missing, ' ')) try_write_cgroup_file(dir + "/cgroup.subtree_control", std::string(word));
}

std::string device_line(char type, const std::optional<int64_t>& major, const std::optional<int64_t>& minor,
                        const std::string& access) {
    auto number = [](const std::optional<int64_t>& n) { return n && *n >= 0 ? std::to_string(*n) : std::string("*"); };
    if (type == 'a') return "a";
    return std::string(1, type) + " " + number(major) + ":" + number(minor) + " " + access;
}

}  // namespace

std::vector<DeviceLine> device_cgroup_lines(const spec::Spec& spec) {
    std::vector<DeviceLine> lines;
    for (auto& rule : effective_device_rules(spec))
        lines.push_back({rule.allow, device_line(rule.type, rule.major, rule.minor, rule.access)});
    return lines;
}

std::vector<std::string> planned_dirs(const Layout& layout, const std::string& relative_path) {
    std::vector<std::string> dirs;
    for (auto& h : layout.hierarchies) dirs.push_back(h.mount_point + relative_path);
    return dirs;
}

ContainerCgroup::ContainerCgroup(const Layout& layout, const std::string& relative_path)
    : layout_(layout), relative_path_(relative_path) {
    std::string normalized;
    for (std::string_view part : text::split(relative_path, '/')) {
        normalized += '/';
        normalized += part;
    }
    for (auto& h : layout.hierarchies) dirs_.push_back(h.mount_point + normalized);
}

void ContainerCgroup::make(bool unified) {
    for (auto& h : layout_.hierarchies)
        if (h.unified == unified) make_in(h);
}

void ContainerCgroup::make_in(const Hierarchy& h) {
    std::vector<std::string_view> parts = text::split(relative_path_, '/');
    const bool cpuset = !h.unified && has_controller(h, "cpuset");
    static constexpr const char* kCpusetFiles[] = {"/cpuset.cpus", "/cpuset.mems"};
    std::string dir = h.mount_point;
    std::string inherited[2];  // cpuset: the parent level's values, once read
    int restarts = 0;
    auto start_over = [&] {
        dir = h.mount_point;
        inherited[0].clear();
        inherited[1].clear();
    };
    for (size_t i = 0; i < parts.size(); ++i) {
        std::string parent = dir;
        dir += '/';
        dir += parts[i];
        if (h.unified && layout_.mode == Mode::v2) delegate_v2_controllers(parent);
        int rc = ::mkdir(dir.c_str(), 0755);
        if (rc != 0 && errno == ENOENT && restarts++ < 100) {
            // The delete of the last container below a shared /crun-lite parent removed it just now: start over.
            start_over();
            i = size_t(-1);
            continue;
        }
        if (rc == 0) created_.push_back(dir);
        else if (errno != EEXIST)
            throw Error("create cgroup " + dir, errno,
                        errno == EACCES || errno == EPERM ? "creating cgroups needs root (or a delegated cgroup): run as root, "
                                                           "or set .linux.cgroupsPath under a cgroup you own"
                                                         : "");
        if (!cpuset) continue;
        bool vanished = false;
        // A write to a level that a concurrent delete removed meanwhile (ENOENT before the open,
        // ENODEV after it) starts the path over.
        auto write_unless_vanished = [&](const std::string& file, const std::string& value) {
            int err = try_write_cgroup_file(dir + file, value);
            if (err == ENOENT || err == ENODEV) vanished = true;
            else if (err) throw Error("write \"" + value + "\" to " + dir + file, err, cgroup_write_hint(err));
        };
        // A new v1 cpuset asks for load balancing across its CPUs, and then giving it CPUs and
        // removing it each rebuild the scheduler domains: a walk of every cpuset on the host
        // under a global mutex, twice per container, which grows with the number of containers.
        // Where a cpuset above already balances these CPUs the flag changes nothing else (the
        // kernel's cpuset documentation), and while the new one has no CPUs, clearing it costs no
        // rebuild. Only the container's own level, which goes with it: a shared level made here
        // may outlive the host's choice, and keeps the default.
        if (rc == 0 && i + 1 == parts.size() && load_balanced_at_or_above(h.mount_point, parent))
            write_unless_vanished("/cpuset.sched_load_balance", "0");
        // A new v1 cpuset starts empty, and no task can join an empty cpuset. A level that
        // already existed is checked too: a concurrent create may have made it and not filled it
        // yet. A level made just now is known to be empty, and gets its parent's values.
        for (int f = 0; f < 2 && !vanished; ++f) {
            std::string own = rc == 0 ? std::string() : read_cgroup_line(dir + kCpusetFiles[f]);
            if (!own.empty()) {
                inherited[f] = std::move(own);
                continue;
            }
            if (inherited[f].empty()) inherited[f] = read_cgroup_line(parent + kCpusetFiles[f]);
            write_unless_vanished(kCpusetFiles[f], inherited[f]);
        }
        if (vanished && restarts++ < 100) {
            start_over();
            i = size_t(-1);
            continue;
        }
    }
}

std::vector<std::string> ContainerCgroup::dirs_of(bool unified) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < layout_.hierarchies.size(); ++i)
        if (layout_.hierarchies[i].unified == unified) out.push_back(dirs_[i]);
    return out;
}

ContainerCgroup::~ContainerCgroup() {
    // A failed create: deepest first, only what this object made, and never a walk of what is
    // below (the shared parent it made may hold other containers' cgroups by now). Its own
    // directories may still count an init just reaped for a moment.
    for (auto dir = created_.rbegin(); dir != created_.rend(); ++dir) {
        bool own = dir->size() >= relative_path_.size() && dir->compare(dir->size() - relative_path_.size(), std::string::npos, relative_path_) == 0;
        if (own) rmdir_when_empty(*dir);
        else ::rmdir(dir->c_str());
    }
}

void ContainerCgroup::apply_device_rules(const spec::Spec& spec) const {
    for (size_t i = 0; i < layout_.hierarchies.size(); ++i) {
        const Hierarchy& h = layout_.hierarchies[i];
        if (h.unified || !has_controller(h, "devices")) continue;
        // Start from nothing, then add the allowed devices, so the result does not depend on the
        // parent. One write per rule, as the kernel takes them, through one open of each file.
        std::string allow_path = dirs_[i] + "/devices.allow", deny_path = dirs_[i] + "/devices.deny";
        UniqueFd allow(::open(allow_path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!allow) throw Error("open " + allow_path, errno);
        UniqueFd deny(::open(deny_path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!deny) throw Error("open " + deny_path, errno);
        auto write_rule = [](int fd, const std::string& path, const std::string& rule) {
            if (::write(fd, rule.data(), rule.size()) != ssize_t(rule.size()))
                throw Error("write \"" + rule + "\" to " + path, errno, cgroup_write_hint(errno));
        };
        write_rule(deny.get(), deny_path, "a");
        for (auto& line : device_cgroup_lines(spec))
            write_rule(line.allow ? allow.get() : deny.get(), line.allow ? allow_path : deny_path, line.text);
        return;
    }
    // No v1 device controller: on cgroup2 the same rules become an eBPF program.
    for (size_t i = 0; i < layout_.hierarchies.size(); ++i)
        if (layout_.hierarchies[i].unified && layout_.mode == Mode::v2)
            attach_device_filter(dirs_[i], device_filter_program(effective_device_rules(spec)));
}

void ContainerCgroup::apply_resources(const spec::Resources& resources) const {
    cgroups::apply_resources(layout_, dirs_, resources);
}

namespace {

// The directory and every cgroup below it, parents before children.
std::vector<std::string> tree(const std::string& dir) {
    std::vector<std::string> out = {dir};
    for (size_t i = 0; i < out.size(); ++i) {
        DIR* d = ::opendir(out[i].c_str());
        if (!d) continue;
        while (dirent* e = ::readdir(d)) {
            std::string name = e->d_name;
            if (e->d_type == DT_DIR && name != "." && name != "..") out.push_back(out[i] + "/" + name);
        }
        ::closedir(d);
    }
    return out;
}

}  // namespace

std::vector<int> pids_in(const std::vector<std::string>& dirs) {
    // Processes may have moved into cgroups they made below the container's: all count.
    std::vector<int> pids;
    for (auto& dir : dirs) {
        if (::access((dir + "/cgroup.procs").c_str(), R_OK) != 0) continue;
        for (auto& sub : tree(dir)) {
            std::ifstream in(sub + "/cgroup.procs");
            for (int pid; in >> pid;) pids.push_back(pid);
        }
        break;
    }
    return pids;
}

void kill_all(const std::vector<std::string>& dirs) {
    // cgroup.kill (cgroup2, Linux 5.14+) kills a whole subtree at once, forks in flight included.
    for (auto& dir : dirs) {
        int fd = ::open((dir + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) continue;
        bool killed = ::write(fd, "1", 1) == 1;
        ::close(fd);
        if (killed) return;
    }
    // v1: signal until nothing is left, since a process may fork while we read the lists.
    for (int round = 0; round < 10; ++round) {
        std::vector<int> pids = pids_in(dirs);
        if (pids.empty()) return;
        for (int pid : pids) ::kill(pid, SIGKILL);
    }
}

namespace {

// The kernel may still count a task that has just been reaped for a moment: retry EBUSY,
// sleeping from 0.1 ms up to 10 ms, about a second in all.
void rmdir_when_empty(const std::string& dir) {
    auto pause = std::chrono::microseconds(100);
    for (auto waited = std::chrono::microseconds(0); waited < std::chrono::seconds(1); waited += pause) {
        if (::rmdir(dir.c_str()) == 0 || errno != EBUSY) return;
        std::this_thread::sleep_for(pause);
        pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(10));
    }
}

}  // namespace

// The shared "crun-lite" parent of the former default paths (/crun-lite/<id>, before
// /crun-lite-<id>, and still the default of an ID too long for the prefix) goes with its last
// container (EBUSY while another container is below it), so that containers made by an older
// crun-lite, or given such a cgroupsPath, leave nothing either. Only that one, right below a
// hierarchy's root: a "crun-lite" deeper down (cgroupsPath /kubepods/crun-lite/<id>) is the
// caller's, and stays as runc and crun leave every parent of a cgroupsPath.
// A create racing this starts its path over (make_in).
static void remove_shared_parent(const std::string& dir) {
    auto slash = dir.rfind('/');
    if (slash == std::string::npos) return;
    std::string parent = dir.substr(0, slash);
    auto name_at = parent.rfind('/');
    if (name_at == std::string::npos || std::string_view(parent).substr(name_at + 1) != kSharedParent) return;
    if (!sys::is_mount_root(parent.substr(0, name_at))) return;
    // A cgroup directory counts 2 links plus one per child cgroup. With other containers below
    // it, an rmdir would only take the kernel's global cgroup mutex to say EBUSY, which hundreds
    // of concurrent deletes queue for; the last container's own stat sees 2 and removes it.
    struct stat st{};
    if (::stat(parent.c_str(), &st) == 0 && st.st_nlink <= 2) ::rmdir(parent.c_str());
}

bool remove_if_empty(const std::vector<std::string>& dirs) {
    bool removed_all = true;
    for (auto& dir : dirs) {
        if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) removed_all = false;  // EBUSY: tasks or child cgroups
        else remove_shared_parent(dir);
    }
    return removed_all;
}

void remove(const std::vector<std::string>& dirs) {
    for (auto& dir : dirs) {
        // Usually the container made no cgroup below its own, and one rmdir does.
        if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
            // Deepest first, so that every parent is empty when its turn comes.
            auto ordered = tree(dir);
            std::reverse(ordered.begin(), ordered.end());
            for (auto& sub : ordered) rmdir_when_empty(sub);
        }
        remove_shared_parent(dir);
    }
}

}  // namespace crunlite::cgroups
