// linux.seccomp against this host: libseccomp knows every syscall name and architecture, the
// kernel supports every action, and the profile compiles (the same compile create runs).
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "plan/planner.hpp"
#include "check/checks.hpp"
#include "crunlite/error.hpp"

namespace crunlite::check {
namespace {

std::string libseccomp_version() {
    const scmp_version* v = seccomp_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
}

// The kernel's SECCOMP_RET_* for an action name (what SECCOMP_GET_ACTION_AVAIL takes).
uint32_t kernel_action(const std::string& name) {
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SECCOMP_RET_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS") return SECCOMP_RET_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP") return SECCOMP_RET_TRAP;
    if (name == "SCMP_ACT_ERRNO") return SECCOMP_RET_ERRNO;
    if (name == "SCMP_ACT_TRACE") return SECCOMP_RET_TRACE;
    if (name == "SCMP_ACT_LOG") return SECCOMP_RET_LOG;
    if (name == "SCMP_ACT_NOTIFY") return SECCOMP_RET_USER_NOTIF;
    return SECCOMP_RET_ALLOW;
}

void check_action(const std::string& path, const std::string& action, Report& report) {
    uint32_t value = kernel_action(action);
    if (::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &value) != 0)
        report.error(path, "this kernel does not support the seccomp action " + action + " (" + Error::errno_text(errno) + ")",
                     "use an action the kernel offers (/proc/sys/kernel/seccomp/actions_avail lists them)");
}

}  // namespace

void check_seccomp(const Context& ctx, Report& report) {
    if (!ctx.spec.linux.seccomp || report.has_error_under(".linux.seccomp")) return;
    const spec::Seccomp& s = *ctx.spec.linux.seccomp;
    check_action(".linux.seccomp.defaultAction", s.default_action, report);
    for (size_t i = 0; i < s.syscalls.size(); ++i) {
        std::string path = ctx.item_path(report, ".linux.seccomp.syscalls", i);
        const spec::SeccompRule& rule = s.syscalls[i];
        check_action(path + ".action", rule.action, report);
        for (size_t j = 0; j < rule.names.size(); ++j)
            if (seccomp_syscall_resolve_name(rule.names[j].c_str()) == __NR_SCMP_ERROR)
                report.warning(path + ".names[" + std::to_string(j) + "]",
                               "syscall \"" + rule.names[j] + "\" is unknown to libseccomp " + libseccomp_version() +
                                   " on this architecture; the rule skips it (as runc does)",
                               "check the spelling; a syscall newer than this libseccomp cannot be filtered by name");
    }
    try {
        planning::compile_seccomp_logged(s);
    } catch (const Error& e) {
        report.add_error(e, ".linux.seccomp", "fix the profile; `crun-lite features` lists what this build supports");
    }
}

}  // namespace crunlite::check
