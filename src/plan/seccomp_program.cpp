#include "plan/seccomp_program.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>

#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::planning {
namespace {

uint32_t to_action(const std::string& name, std::optional<uint32_t> errno_ret, bool& notify) {
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
    if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
    if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
    if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
    if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
    if (name == "SCMP_ACT_NOTIFY") {
        notify = true;
        return SCMP_ACT_NOTIFY;
    }
    throw Error("unknown seccomp action " + name);
}

scmp_compare to_operator(const std::string& op) {
    static const std::map<std::string, scmp_compare> ops = {
        {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    return ops.at(op);
}

unsigned to_flag(const std::string& flag) {
    if (flag == "SECCOMP_FILTER_FLAG_TSYNC") return SECCOMP_FILTER_FLAG_TSYNC;
    if (flag == "SECCOMP_FILTER_FLAG_LOG") return SECCOMP_FILTER_FLAG_LOG;
    if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
#ifdef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
    if (flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") return SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
#else
    if (flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") return 1U << 5;
#endif
    return 0;
}

using Context = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

void add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const std::vector<scmp_arg_cmp>& conditions,
              uint32_t default_action, const std::string& what) {
    if (action == default_action) return;  // libseccomp refuses a rule that changes nothing
    int rc = seccomp_rule_add_array(ctx, action, nr, unsigned(conditions.size()), conditions.data());
    if (rc != 0 && rc != -EEXIST) throw Error(what + ": add the rule", -rc);
}

}  // namespace

SeccompProgram compile_seccomp(const spec::Seccomp& s) {
    SeccompProgram program;
    bool notify = false;
    uint32_t default_action = to_action(s.default_action, s.default_errno_ret, notify);
    Context ctx(seccomp_init(default_action), seccomp_release);
    if (!ctx) throw Error(".linux.seccomp.defaultAction: seccomp_init failed");

    for (size_t i = 0; i < s.architectures.size(); ++i) {
        std::string name = s.architectures[i].substr(strlen("SCMP_ARCH_"));
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        uint32_t arch = seccomp_arch_resolve_name(name.c_str());
        std::string what = ".linux.seccomp.architectures[" + std::to_string(i) + "]";
        if (arch == 0) throw Error(what + ": architecture \"" + s.architectures[i] + "\" is unknown to this libseccomp");
        int rc = seccomp_arch_add(ctx.get(), arch);
        if (rc != 0 && rc != -EEXIST) throw Error(what + ": add architecture", -rc);
    }

    std::vector<bool> named(1024, false);
    int highest_named = -1;
    for (size_t i = 0; i < s.syscalls.size(); ++i) {
        const spec::SeccompRule& rule = s.syscalls[i];
        std::string what = ".linux.seccomp.syscalls[" + std::to_string(i) + "]";
        uint32_t action = to_action(rule.action, rule.errno_ret, notify);
        std::vector<scmp_arg_cmp> conditions;
        bool repeated_index = false;
        for (auto& a : rule.args) {
            repeated_index |= std::any_of(conditions.begin(), conditions.end(), [&](auto& c) { return c.arg == a.index; });
            conditions.push_back({a.index, to_operator(a.op), a.value, a.value_two});
        }
        for (auto& name : rule.names) {
            int nr = seccomp_syscall_resolve_name(name.c_str());
            if (nr == __NR_SCMP_ERROR) {
                program.skipped.push_back(name);
                continue;
            }
            if (nr >= 0 && nr < int(named.size())) {
                named[size_t(nr)] = true;
                highest_named = std::max(highest_named, nr);
            }
            // libseccomp takes one condition per argument in a rule: conditions on the same
            // argument become separate rules (any of them matching applies the action).
            if (repeated_index)
                for (auto& c : conditions) add_rule(ctx.get(), action, nr, {c}, default_action, what);
            else
                add_rule(ctx.get(), action, nr, conditions, default_action, what);
        }
    }

    uint32_t enosys = SCMP_ACT_ERRNO(ENOSYS);
    if (default_action != SCMP_ACT_ALLOW && default_action != SCMP_ACT_LOG && default_action != enosys && highest_named >= 0) {
        for (int nr = highest_named + 1; nr < int(named.size()); ++nr) {
            char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
            if (!name) continue;
            free(name);
            if (!named[size_t(nr)]) seccomp_rule_add(ctx.get(), enosys, nr, 0);
        }
    }

    for (auto& flag : s.flags) program.flags |= to_flag(flag);
    program.notify = notify;
    if (notify) {
        if (s.listener_path.empty()) throw SpecError(".linux.seccomp.listenerPath", "is required with SCMP_ACT_NOTIFY");
        program.flags &= ~unsigned(SECCOMP_FILTER_FLAG_TSYNC);  // the kernel refuses TSYNC with a listener
        program.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }

    UniqueFd memory(::memfd_create("seccomp-bpf", MFD_CLOEXEC));
    if (!memory) throw Error("memfd_create for the seccomp program", errno);
    int rc = seccomp_export_bpf(ctx.get(), memory.get());
    if (rc != 0) throw Error(".linux.seccomp: export the filter", -rc);
    off_t size = ::lseek(memory.get(), 0, SEEK_END);
    program.instructions.resize(size_t(size) / sizeof(sock_filter));
    if (::pread(memory.get(), program.instructions.data(), size_t(size), 0) != size)
        throw Error(".linux.seccomp: read the filter back", errno);
    return program;
}

}  // namespace crunlite::planning
