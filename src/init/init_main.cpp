// The cloned child, top to bottom: from the moment clone returns until the user program is
// exec'd. Two spines, a container's init (create) and a process joining a container (exec),
// share their last part. Every message of the protocol (protocol.hpp) is sent or awaited here,
// in this file, through `channel`; the steps themselves (init_steps.hpp) never talk to the
// runtime. Runs in a copy of the runtime's memory with no other thread; every failure goes back
// to the runtime as one ERROR.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "cgroups/cgroup_entry.hpp"
#include "crunlite/error.hpp"
#include "crunlite/hooks.hpp"
#include "crunlite/phase_timer.hpp"
#include "init/init_entry.hpp"
#include "init/init_steps.hpp"
#include "sys/loopback.hpp"

namespace crunlite::init {
namespace {

// The runtime's descriptors (state-file lock, cgroup files, log) must not stay open in the
// child: a held flock would block the next command on this container.
void close_runtime_fds(const InitPlan& plan, const InitHandoff& handoff, int channel_fd) {
    std::vector<int> keep = {channel_fd, handoff.exec_fifo.get()};
    for (auto& join : plan.joins) keep.push_back(join.fd.get());
    for (auto& m : plan.mounts) keep.push_back(m.idmapped_tree.get());
    keep.push_back(handoff.host_root.get());
    keep.push_back(plan.exec_root.get());
    for (auto& fd : handoff.cgroup_entry.v1_tasks) keep.push_back(fd.get());
    std::sort(keep.begin(), keep.end());
    unsigned next = 3 + unsigned(plan.preserve_fds);
    for (int fd : keep) {
        if (fd < 0 || unsigned(fd) < next) continue;
        if (unsigned(fd) > next) ::syscall(SYS_close_range, next, unsigned(fd) - 1, 0);
        next = unsigned(fd) + 1;
    }
    ::syscall(SYS_close_range, next, ~0U, 0);
}

void load_seccomp_now(const InitPlan& plan, InitChannel& channel) {
    int listener = load_seccomp(*plan.seccomp);
    if (listener >= 0) channel.hand_over_seccomp_listener(UniqueFd(listener));
}

// The part both spines share: the process's own settings, then its identity, with the seccomp
// filter before or after the user change as the plan says. Returns the program to exec.
std::string prepare_process(const InitPlan& plan, InitChannel& channel, PhaseTimer& timer) {
    const spec::Process& process = *plan.spec->process;
    apply_rlimits(process);
    change_directory(process);
    timer.mark("rlimits-cwd");
    // Both before any seccomp filter, which might not allow their system calls.
    apply_cpu_affinity(plan);
    apply_memory_policy(plan);
    apply_process_attributes(plan);
    close_fds_at_exec(plan);
    timer.mark("attributes-fds");
    if (plan.seccomp_load == SeccompLoad::before_user_change) load_seccomp_now(plan, channel);
    become_user(plan);
    if (plan.seccomp_load == SeccompLoad::after_user_change) load_seccomp_now(plan, channel);
    timer.mark("user-caps-seccomp");
    std::string executable = find_executable(process, plan.env);
    // From here on the runtime may exit (create returns): the process must outlive it.
    if (::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) != 0) throw Error("prctl PR_SET_PDEATHSIG", errno);
    timer.mark("exec-lookup");
    return executable;
}

void set_up_container(const InitPlan& plan, InitHandoff& handoff, InitChannel& channel) {
    PhaseTimer timer;
    const spec::Spec& spec = *plan.spec;
    ::umask(0);
    // Non-dumpable /proc/<pid> files belong to root: an unprivileged runtime could not write
    // the uid/gid maps any more. Nothing else can reach init before GO.
    channel.wait_go();
    // Nobody in the container may ptrace or open /proc/<pid> of init before exec (CVE-2016-9962).
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) throw Error("prctl PR_SET_DUMPABLE", errno);
    timer.mark("wait-for-parent");
    if (plan.new_user_ns && (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0))
        throw Error("become root in the new user namespace (check .linux.uidMappings and .linux.gidMappings map 0)", errno);
    enter_namespaces(plan);
    // In a joined user namespace the runtime's uid may map to nothing, and nothing could be
    // created under it (EOVERFLOW): become that namespace's root when it has one.
    if (plan.in_user_ns && !plan.new_user_ns && ::setresgid(0, 0, 0) == 0) ::setresuid(0, 0, 0);
    // A pid namespace that only this process's children enter: fork, and go on in the child.
    if (plan.fork_after_joining) channel.hand_over_to_child(fork_into_pid_namespace);
    timer.mark("namespaces");
    if (plan.new_net_ns) sys::bring_up_loopback();
    set_names(spec);
    if (plan.new_keyring) join_session_keyring(plan.keyring_label);
    timer.mark("network-names-keyring");
    // The runtime's bind mounts for /sys/fs/cgroup need no cgroup namespace: then init mounts
    // while the runtime still makes the v1 cgroups, and joins them after its mknods. Real
    // cgroup mounts (cgroup v2) are made in the cgroup namespace, so it comes first.
    const std::optional<size_t>& cgroup_mount = plan.cgroups.mount_from_runtime;
    if (plan.cgroups.made_after_clone && !cgroup_mount) {
        enter_cgroups(plan, channel.receive_cgroups());
        timer.mark("cgroups");
    }

    UniqueFd root = prepare_root(plan, handoff.host_root.get());
    FreshFilesystems fresh;
    if (cgroup_mount) {
        mount_all(plan, root.get(), 0, *cgroup_mount, fresh);
        mount_cgroups_from_runtime(plan, root.get(), channel.receive_cgroup_mounts());
        mount_all(plan, root.get(), *cgroup_mount + 1, plan.mounts.size(), fresh);
    } else {
        mount_all(plan, root.get(), 0, plan.mounts.size(), fresh);
    }
    timer.mark("mounts");
    create_devices(plan, root.get(), fresh);
    timer.mark("devices");
    if (plan.cgroups.made_after_clone && cgroup_mount) {
        enter_cgroups(plan, channel.receive_cgroups());
        timer.mark("cgroups");
    }
    // The host's /proc still answers here, with init's pid as the host sees it.
    char self[32] = {};
    int host_pid = ::readlink("/proc/self", self, sizeof self - 1) > 0 ? atoi(self) : 0;
    if (plan.runtime_hooks) channel.run_runtime_hooks();
    Pty pty;
    if (spec.process->terminal) {
        pty = open_container_pty(root.get(), *spec.process);
        bind_console(root.get(), pty.slave.get());
    }
    if (!spec.hooks.create_container.empty())
        hooks::run(spec.hooks.create_container, "createContainer",
                   hooks::state_json(plan.id, "creating", host_pid, plan.bundle, spec.annotations));
    timer.mark("hooks-console");
    apply_sysctls(spec);
    set_oom_score_adj(*spec.process);
    mask_paths(spec, root.get());
    make_paths_read_only(spec, root.get());
    finish_root(plan, root.get());
    timer.mark("sysctl-masks-readonly");

    // exec.fifo is a host path: reach it now through the host's /proc, before the host
    // filesystem disappears from view.
    UniqueFd fifo_dir;
    if (handoff.exec_fifo) {
        fifo_dir.reset(::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!fifo_dir) throw Error("open /proc/self/fd", errno);
    }
    enter_root(plan, root.get());
    timer.mark("pivot_root");
    root.reset();
    if (pty.slave) {
        channel.hand_over_console(std::move(pty.master));
        make_controlling_terminal(std::move(pty.slave));  // a session of its own, too
    } else if (::setsid() < 0) {
        // A session of its own, as runc's init makes: CRIU dumps only a process tree that
        // holds the leader of its session, and the caller's session is none of the container's.
        throw Error("setsid", errno);
    }
    if (plan.no_process) {
        // Created, and it stays so: `start` refuses it, `delete` ends it.
        ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        channel.ready("");
        channel.close();
        for (;;) ::pause();
    }

    std::string executable = prepare_process(plan, channel, timer);
    channel.ready(timer.summary());
    UniqueFd fifo_write;
    if (plan.start_over_socket) {
        // `run`: the same runtime process starts us; the socket closes at exec (CLOEXEC).
        channel.wait_start();
    } else {
        channel.close();
        // Blocks until `start` opens the fifo for reading.
        std::string fifo_name = std::to_string(handoff.exec_fifo.get());
        fifo_write.reset(::openat(fifo_dir.get(), fifo_name.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fifo_write) {
            dprintf(STDERR_FILENO, "crun-lite: container init: open exec.fifo: %s\n", strerror(errno));
            _exit(1);
        }
        handoff.exec_fifo.reset();
        fifo_dir.reset();
    }
    try {
        if (!spec.hooks.start_container.empty())
            hooks::run(spec.hooks.start_container, "startContainer",
                       hooks::state_json(plan.id, "created", host_pid, plan.bundle, spec.annotations));
    } catch (const Error& e) {
        // `start` is waiting for the fifo byte (or `run` for GOING), not for a message: stderr
        // is the channel left.
        dprintf(STDERR_FILENO, "crun-lite: %s\n", e.what());
        _exit(1);
    }
    // Tell `start` we are going: it waits for this byte, or `run` for GOING.
    if (fifo_write && ::write(fifo_write.get(), "0", 1) != 1) _exit(127);
    if (plan.start_over_socket && !channel.going()) _exit(127);
    exec_process(plan, executable);
}

// `exec`: the runtime already placed this process in the container's cgroups (cgroup2 at clone,
// v1 by run_in_child) and, as root, in its pid namespace.
void join_container(const InitPlan& plan, InitHandoff&, InitChannel& channel) {
    PhaseTimer timer;
    // Processes already in the container must not ptrace or open /proc/<pid> of this one.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) throw Error("prctl PR_SET_DUMPABLE", errno);
    channel.wait_go();
    enter_namespaces(plan);
    if (plan.exec_root) enter_exec_root(plan.exec_root.get());
    // A pid namespace that only this process's children enter: fork, and go on in the child.
    if (plan.fork_after_joining) channel.hand_over_to_child(fork_into_pid_namespace);
    const spec::Process& process = *plan.spec->process;
    if (process.terminal) {
        UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        Pty pty = open_container_pty(root.get(), process);
        channel.hand_over_console(std::move(pty.master));
        make_controlling_terminal(std::move(pty.slave));
    }
    std::string executable = prepare_process(plan, channel, timer);
    channel.ready("");
    channel.close();
    exec_process(plan, executable);
}

}  // namespace

void run_container_init(const InitPlan& plan, InitHandoff& handoff, InitChannel& channel) { set_up_container(plan, handoff, channel); }
void run_exec_init(const InitPlan& plan, InitHandoff& handoff, InitChannel& channel) { join_container(plan, handoff, channel); }

void run_in_child(const InitPlan& plan, InitHandoff& handoff, InitChannel channel, InitBody body) {
    // Until the child reports READY, it must not outlive a runtime that died half-way.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    close_runtime_fds(plan, handoff, channel.fd());
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);  // the runtime ignores it; the container must not inherit that
    try {
        cgroups::enter_v1_hierarchies(handoff.cgroup_entry.v1_tasks, handoff.cgroup_entry.v1_tasks_paths);
        body(plan, handoff, channel);
    } catch (const Error& e) {
        channel.report_error(e.error_number(), e.what());
    } catch (const std::exception& e) {
        channel.report_error(0, e.what());
    }
    _exit(1);
}

}  // namespace crunlite::init
