// The process against this host: capabilities the kernel has, rlimits the runtime can set,
// the LSMs its labels need, a user the user namespace maps.
#include <fcntl.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "sys/lsm.hpp"
#include "plan/planner.hpp"
#include "check/checks.hpp"
#include "crunlite/error.hpp"

namespace crunlite::check {
namespace {

bool has_effective_capability(cap_value_t cap) {
    cap_t caps = cap_get_proc();
    if (!caps) return false;
    cap_flag_value_t value = CAP_CLEAR;
    cap_get_flag(caps, cap, CAP_EFFECTIVE, &value);
    cap_free(caps);
    return value == CAP_SET;
}

void check_capabilities(const Context& ctx, const spec::Process& process, Report& report) {
    if (!process.capabilities) return;
    // Capabilities this kernel lacks were left out by the parse, with a warning (check_bundle.cpp).
    const spec::Capabilities& caps = *process.capabilities;
    for (size_t i = 0; i < caps.ambient.size(); ++i) {
        int cap = caps.ambient[i];
        bool inheritable = std::find(caps.inheritable.begin(), caps.inheritable.end(), cap) != caps.inheritable.end();
        bool permitted = std::find(caps.permitted.begin(), caps.permitted.end(), cap) != caps.permitted.end();
        if (!inheritable || !permitted) {
            char* name = cap_to_name(cap);
            report.warning(ctx.item_path(report, ".process.capabilities.ambient", i),
                           std::string(name) + " is not also " + (inheritable ? "permitted" : "inheritable") +
                               ", so the kernel cannot raise it: it is skipped, as runc does",
                           "add it to .process.capabilities.inheritable and .permitted too, or drop it from ambient");
            cap_free(name);
        }
    }
}

void check_rlimits(const Context& ctx, const spec::Process& process, Report& report) {
    bool can_raise = has_effective_capability(CAP_SYS_RESOURCE);
    uint64_t nr_open = 0;
    std::istringstream(read_small_file("/proc/sys/fs/nr_open")) >> nr_open;
    for (size_t i = 0; i < process.rlimits.size(); ++i) {
        const spec::Rlimit& r = process.rlimits[i];
        std::string path = ctx.item_path(report, ".process.rlimits", i);
        if (r.resource == RLIMIT_NOFILE && nr_open && r.hard != RLIM_INFINITY && r.hard > nr_open) {
            report.error(path + ".hard", r.name + " hard limit " + std::to_string(r.hard) + " is above the kernel's fs.nr_open (" +
                                             std::to_string(nr_open) + ")",
                         "lower it to at most " + std::to_string(nr_open) + " (or raise fs.nr_open on the host)");
            continue;
        }
        rlimit current{};
        if (::getrlimit(r.resource, &current) != 0) continue;
        bool above = current.rlim_max != RLIM_INFINITY && (r.hard == RLIM_INFINITY || r.hard > current.rlim_max);
        if (above && !can_raise)
            report.error(path + ".hard",
                         r.name + " hard limit " + std::to_string(r.hard) + " is above the runtime's own hard limit (" +
                             std::to_string(current.rlim_max) + "), and raising a hard limit needs CAP_SYS_RESOURCE, which crun-lite lacks here",
                         "lower .hard (and .soft) to at most " + std::to_string(current.rlim_max) +
                             ", or run crun-lite with CAP_SYS_RESOURCE or a higher hard limit (ulimit -H)");
    }
}

// Whether AppArmor takes `profile` for the container's exec, asked as create asks it: a child
// writes "exec PROFILE" to its own attr file and exits (the label would apply only at an exec it
// never makes). The list in /sys/kernel/security/apparmor/profiles cannot tell: it is empty when
// no profile is loaded and missing when securityfs is not mounted. 0, or the errno of the write
// (ENOENT: no such profile is loaded); 0 too when it cannot be asked.
int apparmor_exec_refusal(const std::string& profile) {
    const char* path = ::access("/proc/self/attr/apparmor/exec", F_OK) == 0 ? "/proc/self/attr/apparmor/exec" : "/proc/self/attr/exec";
    const std::string value = "exec " + profile;
    pid_t pid = ::fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        int fd = ::open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) ::_exit(0);
        ::_exit(::write(fd, value.data(), value.size()) == ssize_t(value.size()) ? 0 : errno & 0xff);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 0;
}

void check_lsms(const spec::Spec& spec, Report& report) {
    const spec::Process& process = *spec.process;
    if (!process.apparmor_profile.empty()) {
        if (!sys::apparmor_enabled()) {
            report.error(".process.apparmorProfile", "AppArmor is not enabled on this host, so profile \"" + process.apparmor_profile +
                                                          "\" cannot be applied",
                         "remove .process.apparmorProfile, or run on a host with AppArmor enabled "
                         "(/sys/module/apparmor/parameters/enabled reads Y)");
        } else if (process.apparmor_profile != "unconfined") {
            int err = apparmor_exec_refusal(process.apparmor_profile);
            if (err == ENOENT)
                report.error(".process.apparmorProfile", "AppArmor profile \"" + process.apparmor_profile + "\" is not loaded",
                             "load it first (apparmor_parser -r /etc/apparmor.d/<profile>)");
            else if (err)
                report.error(".process.apparmorProfile", "AppArmor refuses profile \"" + process.apparmor_profile + "\": " + std::strerror(err),
                             "check the profile's name and mode, and what confines crun-lite itself (aa-status)");
        }
    }
    if (!process.selinux_label.empty() && !sys::selinux_enabled())
        report.error(".process.selinuxLabel", "SELinux is not enabled on this host", "remove .process.selinuxLabel, or run on an SELinux host");
    if (!spec.linux.mount_label.empty() && !sys::selinux_enabled())
        report.warning(".linux.mountLabel", "SELinux is not enabled on this host: the label is ignored, as crun does",
                       "remove .linux.mountLabel, or run on an SELinux host to have the container's filesystems labelled");
}

bool mapped(const std::vector<spec::IdMapping>& mappings, uint32_t id) {
    for (auto& m : mappings)
        if (id >= m.container_id && uint64_t(id) < uint64_t(m.container_id) + m.size) return true;
    return false;
}

void check_user(const spec::Spec& spec, Report& report) {
    const spec::Namespace* user_ns = spec.linux.find_namespace(spec::NamespaceKind::user);
    if (!user_ns || !user_ns->path.empty() || report.has_error_under(".process.user")) return;
    const spec::User& user = spec.process->user;
    if (!spec.linux.uid_mappings.empty() && !mapped(spec.linux.uid_mappings, user.uid))
        report.error(".process.user.uid", "uid " + std::to_string(user.uid) + " is not mapped by .linux.uidMappings",
                     "map it (a containerID range that holds it), or run the process as a mapped uid");
    if (!spec.linux.gid_mappings.empty() && !mapped(spec.linux.gid_mappings, user.gid))
        report.error(".process.user.gid", "gid " + std::to_string(user.gid) + " is not mapped by .linux.gidMappings",
                     "map it (a containerID range that holds it), or run the process as a mapped gid");
}

}  // namespace

void check_process(const Context& ctx, Report& report) {
    if (ctx.rootless) {
        try {
            spec::Spec copy = ctx.spec;
            if (!copy.process) copy.process = spec::Process{};
            planning::check_rootless(copy);
        } catch (const Error& e) {
            report.add_error(e, ".linux", "run as root, or drop what an unprivileged user cannot have");
        }
    }
    if (ctx.spec.hostname.size() > 64 && !report.has_error_under(".hostname"))
        report.error(".hostname", "is " + std::to_string(ctx.spec.hostname.size()) + " characters; the kernel takes at most 64",
                     "shorten it");
    if (!ctx.spec.process) return;
    check_capabilities(ctx, *ctx.spec.process, report);
    check_rlimits(ctx, *ctx.spec.process, report);
    check_lsms(ctx.spec, report);
    check_user(ctx.spec, report);
}

}  // namespace crunlite::check
