// The container process itself: sysctls, limits, working directory, identity,
// capabilities, and the final exec.
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sys/executable_search.hpp"
#include "crunlite/error.hpp"
#include "init/init_steps.hpp"

namespace crunlite::init {
namespace {

void write_proc_file(const std::string& path, const std::string& value, const std::string& what) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw Error(what + ": open " + path, errno);
    if (::write(fd.get(), value.data(), value.size()) != ssize_t(value.size())) throw Error(what + ": write " + path, errno);
}

bool contains(const std::vector<int>& caps, int cap) { return std::find(caps.begin(), caps.end(), cap) != caps.end(); }

void set_capability_flag(cap_t caps, cap_flag_t flag, const std::vector<int>& list) {
    if (list.empty()) return;
    std::vector<cap_value_t> values(list.begin(), list.end());
    if (cap_set_flag(caps, flag, int(values.size()), values.data(), CAP_SET) != 0)
        throw Error("prepare the capability sets of .process.capabilities", errno);
}

}  // namespace

void apply_sysctls(const spec::Spec& spec) {
    // The host's procfs is still reachable here, and every allowed key is namespaced, so the
    // write lands in the container's own ipc/net/uts namespace (see spec/validate.cpp).
    for (auto& [key, value] : spec.linux.sysctl) {
        std::string path = "/proc/sys/" + key;  // dotted or slashed, both name the same file
        std::replace(path.begin() + 10, path.end(), '.', '/');
        write_proc_file(path, value, ".linux.sysctl." + key);
    }
}

void apply_rlimits(const spec::Process& process) {
    for (size_t i = 0; i < process.rlimits.size(); ++i) {
        const spec::Rlimit& r = process.rlimits[i];
        rlimit limit{r.soft, r.hard};
        if (::setrlimit(r.resource, &limit) != 0)
            throw Error(".process.rlimits[" + std::to_string(i) + "]: set " + r.name + " to soft " + std::to_string(r.soft) +
                            ", hard " + std::to_string(r.hard) + (errno == EPERM ? " (raising a hard limit needs CAP_SYS_RESOURCE)" : ""),
                        errno);
    }
}

void set_oom_score_adj(const spec::Process& process) {
    if (process.oom_score_adj)
        write_proc_file("/proc/self/oom_score_adj", std::to_string(*process.oom_score_adj), ".process.oomScoreAdj");
}

void change_directory(const spec::Process& process) {
    if (::chdir(process.cwd.c_str()) != 0) throw Error(".process.cwd: chdir " + process.cwd, errno);
    // A cwd reached through a leaked fd or a magic link lies outside the root: getcwd then
    // fails or answers "(unreachable)" (CVE-2024-21626).
    char buf[4096];
    if (!::getcwd(buf, sizeof buf) || buf[0] != '/')
        throw Error(".process.cwd: " + process.cwd + " is outside the container's root");
}

void become_user(const InitPlan& plan) {
    const spec::Process& process = *plan.spec->process;
    const spec::Capabilities no_caps;
    const spec::Capabilities& caps = process.capabilities ? *process.capabilities : no_caps;

    for (int cap = 0; cap <= plan.last_capability; ++cap)
        if (!contains(caps.bounding, cap) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            throw Error(".process.capabilities.bounding: drop " + std::string(cap_to_name(cap)), errno);

    // Keep the permitted set across the uid change; the final sets are applied below.
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw Error("prctl PR_SET_KEEPCAPS", errno);
    const spec::User& user = process.user;
    std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
    if (::setgroups(groups.size(), groups.data()) != 0 && !(errno == EPERM && plan.in_user_ns && groups.empty()))
        throw Error(".process.user.additionalGids: setgroups", errno);
    if (::setresgid(user.gid, user.gid, user.gid) != 0) throw Error(".process.user.gid: setgid " + std::to_string(user.gid), errno);
    if (::setresuid(user.uid, user.uid, user.uid) != 0) throw Error(".process.user.uid: setuid " + std::to_string(user.uid), errno);
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw Error("prctl PR_SET_KEEPCAPS", errno);

    cap_t sets = cap_init();
    if (!sets) throw Error("cap_init", errno);
    set_capability_flag(sets, CAP_EFFECTIVE, caps.effective);
    set_capability_flag(sets, CAP_PERMITTED, caps.permitted);
    set_capability_flag(sets, CAP_INHERITABLE, caps.inheritable);
    int rc = cap_set_proc(sets);
    int err = errno;
    cap_free(sets);
    if (rc != 0) throw Error(".process.capabilities: set the effective, permitted and inheritable sets", err);
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        throw Error("clear the ambient capabilities", errno);
    // The kernel takes only ambient capabilities that are also permitted and inheritable; the
    // others are skipped, as runc does (buildah sends ambient without inheritable), and the
    // runtime logged them at plan time.
    for (int cap : caps.ambient)
        if (contains(caps.permitted, cap) && contains(caps.inheritable, cap) &&
            ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
            throw Error(".process.capabilities.ambient: raise " + std::string(cap_to_name(cap)), errno);

    if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        throw Error(".process.noNewPrivileges: prctl", errno);
    ::umask(user.umask.value_or(022));
}

std::string find_executable(const spec::Process& process, const std::vector<std::string>& env) {
    const std::string& name = process.args[0];
    auto runnable = [](const std::string& path, int& err) {
        struct stat st{};
        if (::stat(path.c_str(), &st) != 0) { err = errno; return false; }
        if (S_ISDIR(st.st_mode)) { err = EISDIR; return false; }
        if (::access(path.c_str(), X_OK) != 0) { err = errno; return false; }
        return true;
    };
    int err = 0;
    std::vector<std::string> candidates = sys::executable_candidates(name, env);
    if (name.find('/') != std::string::npos) {
        if (!runnable(name, err))
            throw Error("exec: \"" + name + "\" (.process.args[0]): stat " + name + ": " + Error::errno_text(err) +
                        (err == ENOENT ? " (hint: the path is looked up inside the container's root filesystem)" : ""));
        return name;
    }
    for (auto& candidate : candidates)
        if (runnable(candidate, err)) return candidate;
    std::string search;
    for (auto& c : candidates) search += (search.empty() ? "" : ":") + c.substr(0, c.size() - name.size() - 1);
    throw Error("exec: \"" + name + "\" (.process.args[0]): executable file not found in $PATH (hint: PATH=" + search +
                " is searched inside the container's root filesystem; put the program there, give args[0] as an absolute path, "
                "or set PATH in .process.env)");
}

void close_fds_at_exec(const InitPlan& plan) {
    // Inherited descriptors stop at exec, except the --preserve-fds ones right after stdio. Done
    // before any seccomp filter loads, which might not allow close_range; every descriptor
    // opened after this is opened close-on-exec.
    int first_closed = 3 + plan.preserve_fds;
    for (int fd = 3; fd < first_closed; ++fd) ::fcntl(fd, F_SETFD, 0);
    if (::syscall(SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
        throw Error("mark descriptors close-on-exec (close_range)", errno);
}

void exec_process(const InitPlan& plan, const std::string& executable) {
    const spec::Process& process = *plan.spec->process;
    std::vector<char*> argv, envp;
    for (auto& a : process.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : plan.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    // As late as possible, so the filter applies to as little of the runtime as possible.
    if (plan.seccomp_load == SeccompLoad::at_exec) {
        try {
            load_seccomp(*plan.seccomp);
        } catch (const Error& e) {
            dprintf(STDERR_FILENO, "crun-lite: %s\n", e.what());
            _exit(127);
        }
    }

    ::execve(executable.c_str(), argv.data(), envp.data());
    // `start` has already returned: stderr is the only place left to say why.
    dprintf(STDERR_FILENO, "crun-lite: exec %s: %s\n", executable.c_str(), strerror(errno));
    _exit(127);
}

}  // namespace crunlite::init
