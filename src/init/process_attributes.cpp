// Scheduling, I/O priority, personality and LSM labels of the container process.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/personality.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crunlite/error.hpp"
#include "init/init_steps.hpp"

namespace crunlite::init {
namespace {

// The kernel's struct sched_attr (sched_setattr(2)); glibc 2.36 has no wrapper.
struct SchedAttr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

// Writes to /proc/self/attr/... only once the file is known to be procfs: an image can
// mount something else over /proc (CVE-2019-16884). `enoent_hint`: what to say when the LSM
// answers ENOENT (no such profile or label).
}  // namespace

void write_proc_attr(const char* path, const std::string& value, const std::string& what, const std::string& enoent_hint) {
    UniqueFd fd(::open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw Error(what + ": open " + path, errno);
    struct statfs fs{};
    if (::fstatfs(fd.get(), &fs) != 0 || fs.f_type != PROC_SUPER_MAGIC) throw Error(what + ": " + path + " is not on procfs");
    if (::write(fd.get(), value.data(), value.size()) != ssize_t(value.size())) {
        int err = errno;
        throw Error(what + ": write " + path, err, err == ENOENT ? enoent_hint : "");
    }
}

void apply_process_attributes(const InitPlan& plan) {
    const spec::Process& process = *plan.spec->process;
    if (process.scheduler) {
        const spec::Scheduler& s = *process.scheduler;
        SchedAttr attr{sizeof(SchedAttr), uint32_t(s.policy), s.flags, s.nice, s.priority, s.runtime, s.deadline, s.period};
        if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0) throw Error(".process.scheduler: sched_setattr", errno);
    }
    if (process.io_priority) {
        int value = (process.io_priority->io_class << 13) | process.io_priority->priority;
        if (::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, value) != 0) throw Error(".process.ioPriority: ioprio_set", errno);
    }
    if (plan.spec->linux.personality && ::personality(*plan.spec->linux.personality) < 0)
        throw Error(".linux.personality: personality", errno);
    // Both labels take effect at exec.
    if (!process.apparmor_profile.empty()) {
        const char* path = ::access("/proc/self/attr/apparmor/exec", F_OK) == 0 ? "/proc/self/attr/apparmor/exec" : "/proc/self/attr/exec";
        write_proc_attr(path, "exec " + process.apparmor_profile, ".process.apparmorProfile",
                        "AppArmor has no profile \"" + process.apparmor_profile +
                            "\" loaded: load it first (apparmor_parser -r /etc/apparmor.d/<profile>), or fix the name");
    }
    if (!process.selinux_label.empty()) write_proc_attr("/proc/self/attr/exec", process.selinux_label, ".process.selinuxLabel");
}

}  // namespace crunlite::init
