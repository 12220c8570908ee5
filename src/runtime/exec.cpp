// `exec`: a new process in a running container. It joins every namespace of the
// container's init that differs from the runtime's own, and its cgroups.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>


#include "launch/spawn.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "sys/user_namespace.hpp"
#include "crunlite/log.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"
#include "plan/planner.hpp"
#include "resctrl/resctrl.hpp"
#include "runtime/internal.hpp"

namespace crunlite::runtime {
namespace {

// The container's own process settings, with the command and the flags' overrides.
spec::Process process_from_flags(const spec::Spec& container, const ExecOptions& o) {
    spec::Process p = container.process.value_or(spec::Process{});
    if (o.args.empty()) throw Error("exec: a command to run is required");
    p.args = o.args;
    if (!o.cwd.empty()) p.cwd = o.cwd;
    for (auto& e : o.env) {
        auto eq = e.find('=');
        if (eq == std::string::npos || eq == 0) throw Error("--env \"" + e + "\": must have the form KEY=VALUE");
        std::string key = e.substr(0, eq + 1);
        std::erase_if(p.env, [&](const std::string& existing) { return existing.rfind(key, 0) == 0; });
        p.env.push_back(e);
    }
    if (!o.user.empty()) {
        unsigned uid = 0, gid = 0;
        char extra;
        int n = sscanf(o.user.c_str(), "%u:%u%c", &uid, &gid, &extra);
        if (n < 1 || n > 2 || o.user.find_first_not_of("0123456789:") != std::string::npos)
            throw Error("--user \"" + o.user + "\": must be UID or UID:GID (numbers)");
        p.user.uid = uid;
        p.user.gid = n == 2 ? gid : 0;
    }
    for (auto g : o.additional_gids) p.user.additional_gids.push_back(g);
    if (!o.capabilities.empty()) {
        nlohmann::json names = o.capabilities;
        std::vector<spec::SpecWarning> warnings;
        spec::Process with_caps;
        try {
            with_caps = spec::parse_process(
                {{"user", {{"uid", 0}, {"gid", 0}}}, {"args", {"x"}}, {"cwd", "/"}, {"capabilities", {{"bounding", names}}}}, "",
                &warnings);
        } catch (const SpecError& e) {
            throw Error("--cap: " + e.what_failed(), 0, e.hint());
        }
        // A name unknown to libcap or this kernel is left out, as in config.json (runc too).
        for (const spec::SpecWarning& w : warnings) log::warning("--cap: " + w.message);
        if (!p.capabilities) p.capabilities = spec::Capabilities{};
        // Never inheritable or ambient: file capabilities must not be able to grow (CVE-2022-29162).
        for (int cap : with_caps.capabilities->bounding)
            for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
                if (std::find(set->begin(), set->end(), cap) == set->end()) set->push_back(cap);
    }
    if (o.no_new_privs) p.no_new_privileges = true;
    if (!o.apparmor_profile.empty()) p.apparmor_profile = o.apparmor_profile;
    if (!o.process_label.empty()) p.selinux_label = o.process_label;
    p.terminal = o.tty;
    return p;
}

}  // namespace

int exec(const std::string& root, const std::string& id, const ExecOptions& options) {
    std::optional<state::StateFile> state_file = state::StateFile::open(root, id);
    state::Status status = state_file->status();
    if (status == state::Status::stopped) throw Error("cannot exec in a stopped container");
    if (status == state::Status::paused && !options.ignore_paused) throw Error("cannot exec in a paused container");
    state::Record record = state_file->record();

    spec::Spec container = spec::load_bundle(record.bundle);
    spec::Spec spec = container;
    if (options.process_file.empty()) {
        spec.process = process_from_flags(container, options);
    } else {
        std::vector<spec::SpecWarning> warnings;
        spec.process = spec::load_process_file(options.process_file, warnings);
        for (const spec::SpecWarning& w : warnings) log::warning("--process " + options.process_file + ": " + w.path + ": " + w.message);
    }
    // A --process without execCPUAffinity takes the container's, as runc and crun do.
    if (!spec.process->exec_cpu_affinity && container.process) spec.process->exec_cpu_affinity = container.process->exec_cpu_affinity;
    spec.root.path = record.rootfs;
    if (!spec.process->terminal && !options.console_socket.empty())
        throw Error("exec: --console-socket is only for a process with a terminal (--tty or process.terminal)");
    if (spec.process->terminal && options.detach && options.console_socket.empty())
        throw Error("exec: a terminal with --detach needs --console-socket to hand it to");

    const planning::LaunchPlan plan = planning::plan_exec(spec, record, options);
    PidfdSocket pidfd_socket(options.pidfd_socket);

    // The child is born inside the container's pid namespace, where its processes can see it
    // in /proc: it must be non-dumpable from its first instruction (inherited through clone), so
    // that none can open its /proc/<pid>/exe (this binary) or its memory (CVE-2019-5736).
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) throw Error("prctl PR_SET_DUMPABLE", errno);
    planning::InitHandoff handoff;
    handoff.cgroup_entry = cgroups::open_cgroup_entry(
        options.sub_cgroups.empty() ? record.cgroup_dirs : cgroups::sub_cgroup_dirs(cgroups::detect_layout(), record.cgroup_dirs, options.sub_cgroups));
    // Signals wait in a queue until the process runs, to be forwarded then; the child unblocks
    // them for itself.
    ScopedSignalBlock signals_queued(ScopedSignalBlock::all(), !options.detach);
    launch::InitProcess process = launch::clone_process_joining(plan, handoff);
    try {
        launch::enter_cgroup2(process, handoff.cgroup_entry);
    } catch (const Error& e) {
        // runc's rootless rule: an unprivileged caller outside the delegated subtree (a rootless
        // container whose scope the user's systemd made, exec'd from a login shell) may not move
        // a process into it; the process then stays in the caller's cgroup.
        bool unprivileged = sys::runtime_is_unprivileged();
        if (!unprivileged || (e.error_number() != EACCES && e.error_number() != EPERM)) throw;
        log::warning(std::string("exec: the process stays in the caller's cgroup: ") + e.what());
    }
    handoff = {};
    resctrl::join({record.resctrl_group, record.resctrl_mon_group}, process.pid());
    process.go();
    launch::InitProcess::Ready ready = process.wait_ready({
        .run_runtime_hooks = {},
        .take_seccomp_listener =
            [&](UniqueFd listener) {
                send_to_seccomp_listener(*spec.linux.seccomp, listener.get(), id, process.pid(), "running", record.pid, record.bundle,
                                         record.annotations);
            },
    });
    UniqueFd console = std::move(ready.console);
    if (console && !options.console_socket.empty()) {
        send_to_console_socket(options.console_socket, console.get());
        console.reset();
    }
    pidfd_socket.send(process.pid(), "setns");
    if (!options.pid_file.empty()) state::write_file_atomically(options.pid_file, std::to_string(process.pid()));
    int pid = process.release();
    state_file.reset();  // unlock: the container may be signalled or deleted while this process runs
    if (options.detach) return 0;
    return wait_forwarding_signals(pid, console.get());
}

}  // namespace crunlite::runtime
