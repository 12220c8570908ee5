#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "cgroups/cgroup_entry.hpp"
#include "crunlite/error.hpp"
#include "init/init_steps.hpp"

namespace crunlite::init {
namespace {

void write_time_offsets(const spec::Spec& spec) {
    // Only writable before any process has entered the new time namespace: init enters it
    // at exec, so now is the moment.
    std::string text;
    for (auto& [clock, offset] : spec.linux.time_offsets)
        text += clock + " " + std::to_string(offset.secs) + " " + std::to_string(offset.nanosecs) + "\n";
    if (text.empty()) return;
    UniqueFd fd(::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != ssize_t(text.size()))
        throw Error("write .linux.timeOffsets to /proc/self/timens_offsets", errno);
}

}  // namespace

void enter_namespaces(const InitPlan& plan) {
    // Joined namespaces first (the user one leads the list), so that the namespaces created
    // below belong to the joined user namespace.
    for (const NamespaceJoin& join : plan.joins)
        if (::setns(join.fd.get(), join.type) != 0) throw Error("setns into a namespace given in .linux.namespaces", errno);
    // The cgroup namespace must start at the container's cgroups: with them still being made,
    // it waits for enter_cgroups.
    int flags = plan.cgroups.made_after_clone ? plan.unshare_flags & ~CLONE_NEWCGROUP : plan.unshare_flags;
    if (flags && ::unshare(flags) != 0) throw Error("unshare the container's namespaces", errno);
    if (plan.new_time_ns) write_time_offsets(*plan.spec);
}

void enter_cgroups(const InitPlan& plan, std::span<const UniqueFd> v1_tasks) {
    if (v1_tasks.size() != plan.cgroups.v1_tasks_paths.size())
        throw Error("join the container's cgroups: " + std::to_string(v1_tasks.size()) + " tasks files received for " +
                    std::to_string(plan.cgroups.v1_tasks_paths.size()) + " v1 hierarchies");
    cgroups::enter_v1_hierarchies(v1_tasks, plan.cgroups.v1_tasks_paths);
    if ((plan.unshare_flags & CLONE_NEWCGROUP) && ::unshare(CLONE_NEWCGROUP) != 0)
        throw Error("unshare the container's cgroup namespace", errno);
}

pid_t fork_into_pid_namespace() {
    // CLONE_PARENT makes the runtime the parent of the new process, so it can reap it.
    clone_args args{};
    args.flags = CLONE_PARENT;
    pid_t child = pid_t(::syscall(SYS_clone3, &args, sizeof args));
    if (child < 0) throw Error("fork into the container's pid namespace", errno);
    if (child == 0) ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // not inherited through fork
    return child;
}

void set_names(const spec::Spec& spec) {
    if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
        throw Error("sethostname .hostname \"" + spec.hostname + "\"", errno);
    if (!spec.domainname.empty() && ::setdomainname(spec.domainname.data(), spec.domainname.size()) != 0)
        throw Error("setdomainname .domainname \"" + spec.domainname + "\"", errno);
}

void join_session_keyring(const std::string& label) {
    // The keyring takes the container's label, not the runtime's: SELinux would otherwise keep
    // the container's process from its own session keyring. Set for this keyring only.
    if (!label.empty()) write_proc_attr("/proc/self/attr/keycreate", label, ".process.selinuxLabel");
    // A fresh anonymous session keyring, so that keys of the host session never leak in.
    // Kernels or user namespaces without keyrings are not an error, as for runc.
    if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) < 0 && errno != ENOSYS && errno != EDQUOT &&
        errno != EACCES)
        throw Error("join a new session keyring (use --no-new-keyring to skip)", errno);
    if (!label.empty()) write_proc_attr("/proc/self/attr/keycreate", "", ".process.selinuxLabel");
}

}  // namespace crunlite::init
