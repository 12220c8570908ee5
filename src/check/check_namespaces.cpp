// Namespaces against this kernel: each kind exists (/proc/self/ns), each path to join is a
// namespace of the right type, user-namespace mappings are allowed, sysctls exist.
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "util/passwd.hpp"
#include "spec/namespace_kinds.hpp"
#include "check/checks.hpp"
#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::check {
namespace {

void check_namespace(const spec::Namespace& ns, const std::string& path, Report& report) {
    std::string name = spec::namespace_name(ns.kind);
    std::string proc = std::string("/proc/self/ns/") + spec::namespace_proc_name(ns.kind);
    if (::access(proc.c_str(), F_OK) != 0) {
        report.error(path + ".type", "this kernel has no " + name + " namespaces (" + proc + " is missing)",
                     "remove this namespace, or run on a kernel built with it");
        return;
    }
    if (ns.path.empty()) return;
    UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        report.error(path + ".path", "open " + ns.path + ": " + Error::errno_text(errno),
                     "give the namespace file of a running process (/proc/<pid>/ns/" + std::string(spec::namespace_proc_name(ns.kind)) +
                         ") or a bind-mounted one, or drop .path to create a new namespace");
        return;
    }
    int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
    if (type != spec::namespace_clone_flag(ns.kind))
        report.error(path + ".path", ns.path + " is not a " + name + " namespace",
                     "give a " + name + " namespace file, such as /proc/<pid>/ns/" + std::string(spec::namespace_proc_name(ns.kind)));
}

// /etc/subuid or /etc/subgid ranges of the user: name or uid.
std::vector<std::pair<uint64_t, uint64_t>> subordinate_ranges(const std::string& file, uid_t uid) {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    std::string name = passwd_user_name(uid);
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string owner, start, count;
        if (!std::getline(fields, owner, ':') || !std::getline(fields, start, ':') || !std::getline(fields, count)) continue;
        if (owner != name && owner != std::to_string(uid)) continue;
        try {
            out.emplace_back(std::stoull(start), std::stoull(count));
        } catch (const std::exception&) {
        }
    }
    return out;
}

void check_mappings(const Context& ctx, const char* key, const std::vector<spec::IdMapping>& mappings, uint32_t own_id,
                    const char* subfile, Report& report) {
    std::string base = std::string(".linux.") + key;
    if (report.has_error_under(base)) return;
    bool own_only = mappings.size() == 1 && mappings[0].size == 1 && mappings[0].host_id == own_id;
    auto ranges = ctx.rootless && !own_only ? subordinate_ranges(subfile, ::geteuid()) : decltype(subordinate_ranges("", 0)){};
    for (size_t i = 0; i < mappings.size(); ++i) {
        const spec::IdMapping& m = mappings[i];
        std::string path = ctx.item_path(report, base, i);
        if (uint64_t(m.host_id) + m.size > (uint64_t(1) << 32) - 1 || uint64_t(m.container_id) + m.size > (uint64_t(1) << 32) - 1) {
            report.error(path, "hostID/containerID " + std::to_string(m.host_id) + "/" + std::to_string(m.container_id) + " + size " +
                                   std::to_string(m.size) + " goes past the last id (4294967294)",
                         "shrink size or move the range down");
            continue;
        }
        if (!ctx.rootless || own_only) continue;
        bool covered = m.size == 1 && m.host_id == own_id;
        for (auto& [start, count] : ranges)
            covered |= m.host_id >= start && uint64_t(m.host_id) + m.size <= start + count;
        if (!covered)
            report.error(path, "host ids " + std::to_string(m.host_id) + "-" + std::to_string(uint64_t(m.host_id) + m.size - 1) +
                                   " are not yours to map: " + subfile + " gives this user no range holding them",
                         std::string("add a range to ") + subfile + " (usermod --add-subuids/--add-subgids) and install newuidmap/newgidmap, "
                         "or map only your own id (size 1)");
    }
    if (ctx.rootless && !own_only && ::access("/usr/bin/newuidmap", X_OK) != 0 && ::access("/bin/newuidmap", X_OK) != 0)
        report.error(base, "mapping more than your own id needs the setuid newuidmap/newgidmap helpers, which are not installed",
                     "apt-get install uidmap, or map only your own id (size 1)");
}

void check_user_namespace(const Context& ctx, Report& report) {
    const spec::Namespace* user = ctx.spec.linux.find_namespace(spec::NamespaceKind::user);
    if (!user || !user->path.empty()) return;
    std::string max = read_small_file("/proc/sys/user/max_user_namespaces");
    if (!max.empty() && std::stol(max) == 0)
        report.error(".linux.namespaces", "user namespaces are disabled on this host (user.max_user_namespaces = 0)",
                     "sysctl -w user.max_user_namespaces=15000, or drop the user namespace");
    if (ctx.rootless && read_small_file("/proc/sys/kernel/unprivileged_userns_clone").rfind("0", 0) == 0)
        report.error(".linux.namespaces", "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)",
                     "sysctl -w kernel.unprivileged_userns_clone=1, or run as root");
    check_mappings(ctx, "uidMappings", ctx.spec.linux.uid_mappings, ::geteuid(), "/etc/subuid", report);
    check_mappings(ctx, "gidMappings", ctx.spec.linux.gid_mappings, ::getegid(), "/etc/subgid", report);
}

void check_sysctls(const Context& ctx, Report& report) {
    for (auto& [key, value] : ctx.spec.linux.sysctl) {
        std::string path = ".linux.sysctl." + key;
        if (report.has_error_under(path)) continue;
        std::string file = "/proc/sys/" + key;
        std::replace(file.begin() + 10, file.end(), '.', '/');
        struct stat st{};
        if (::stat(file.c_str(), &st) != 0)
            report.error(path, "this kernel has no such sysctl (" + file + " is missing)",
                         "check the name (sysctl -a lists them), or load the module that provides it");
    }
}

}  // namespace

void check_namespaces(const Context& ctx, Report& report) {
    const auto& list = ctx.spec.linux.namespaces;
    for (size_t i = 0; i < list.size(); ++i) {
        check_namespace(list[i], ctx.item_path(report, ".linux.namespaces", i), report);
    }
    check_user_namespace(ctx, report);
    check_sysctls(ctx, report);
}

}  // namespace crunlite::check
