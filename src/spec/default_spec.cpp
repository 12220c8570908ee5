// The config.json written by `crun-lite spec`: runc's default, minus its known mistakes
// (no ambient or inheritable capabilities: CVE-2022-29162), with a cgroup namespace.
#include <unistd.h>

#include "crunlite/spec.hpp"
#include "crunlite/spec_version.hpp"

namespace crunlite::spec {

nlohmann::json default_spec(bool rootless) {
    using nlohmann::json;
    json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    json mounts = json::array({
        {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
         {"options", rootless ? json{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
                              : json{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
        {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}, {"options", {"nosuid", "noexec", "nodev"}}},
    });
    json namespaces = json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
    json linux = {
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
    };
    if (rootless) {
        // Without a network namespace of its own the container cannot mount sysfs: bind the host's.
        mounts.push_back({{"destination", "/sys"}, {"type", "none"}, {"source", "/sys"},
                          {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}});
        namespaces.push_back({{"type", "user"}});
        linux["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", getuid()}, {"size", 1}}});
        linux["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", getgid()}, {"size", 1}}});
    } else {
        mounts.push_back({{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}});
        mounts.push_back({{"destination", "/sys/fs/cgroup"}, {"type", "cgroup"}, {"source", "cgroup"},
                          {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}});
        namespaces.push_back({{"type", "network"}});
        namespaces.push_back({{"type", "cgroup"}});
        linux["resources"] = {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})}};
    }
    linux["namespaces"] = namespaces;
    return {
        {"ociVersion", kSpecVersion},
        {"process",
         {{"terminal", false},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", {"sh"}},
          {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
          {"cwd", "/"},
          {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
          {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
          {"noNewPrivileges", true}}},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "crun-lite"},
        {"mounts", mounts},
        {"linux", linux},
    };
}

}  // namespace crunlite::spec
