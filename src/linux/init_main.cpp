// Container init, top to bottom: from the moment clone returns in the child until the
// user program is exec'd. Runs in a copy of the parent's memory with no other thread;
// every failure goes back to the parent as one line over the sync socket.
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
#include "init_steps.hpp"
#include "sync.hpp"

namespace crunlite::linux_setup {
namespace {

// The parent's descriptors (state-dir lock, cgroup files, log) must not stay open in
// init: a held flock would block the next command on this container.
void close_parent_fds(const InitPlan& plan) {
    std::vector<int> keep = {plan.sync_fd, plan.fifo_fd};
    for (auto& [fd, type] : plan.joins) keep.push_back(fd);
    for (auto& m : plan.mounts) keep.push_back(m.idmap_userns_fd);
    for (int fd : plan.cgroup_tasks_fds) keep.push_back(fd);
    std::sort(keep.begin(), keep.end());
    unsigned next = 3 + unsigned(plan.preserve_fds);
    for (int fd : keep) {
        if (fd < 0 || unsigned(fd) < next) continue;
        if (unsigned(fd) > next) ::syscall(SYS_close_range, next, unsigned(fd) - 1, 0);
        next = unsigned(fd) + 1;
    }
    ::syscall(SYS_close_range, next, ~0U, 0);
}

void wait_for_parent(int sync_fd) {
    SyncMessage message;
    if (!receive_sync(sync_fd, message) || message.type != SyncType::go) _exit(1);  // the parent gave up
}

void set_up_container(const InitPlan& plan) {
    int fifo_write_fd = -1;
    PhaseTimer timer;
    const spec::Spec& spec = *plan.spec;
    ::umask(0);
    // Non-dumpable /proc/<pid> files belong to root: an unprivileged parent could not write
    // the uid/gid maps any more. Nothing else can reach init before it goes on.
    wait_for_parent(plan.sync_fd);
    // Nobody in the container may ptrace or open /proc/<pid> of init before exec (CVE-2016-9962).
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) throw Error("prctl PR_SET_DUMPABLE", errno);
    timer.mark("wait-for-parent");
    if (plan.new_user_ns && (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0))
        throw Error("become root in the new user namespace (check .linux.uidMappings and .linux.gidMappings map 0)", errno);
    enter_namespaces(plan);
    // In a joined user namespace the runtime's uid may map to nothing, and nothing could be
    // created under it (EOVERFLOW): become that namespace's root when it has one.
    if (plan.in_user_ns && !plan.new_user_ns && ::setresgid(0, 0, 0) == 0) ::setresuid(0, 0, 0);
    continue_in_pid_namespace(plan);
    timer.mark("namespaces");
    if (plan.new_net_ns) bring_up_loopback();
    set_names(spec);
    if (plan.new_keyring) join_session_keyring();
    timer.mark("network-names-keyring");
    // The parent's bind mounts for /sys/fs/cgroup need no cgroup namespace: then init mounts
    // while the parent still makes the v1 cgroups, and joins them after its mknods. Real
    // cgroup mounts (cgroup v2) are made in the cgroup namespace, so it comes first.
    bool join_cgroups_after_mounts = plan.cgroup_mounts_from_parent;
    if (!join_cgroups_after_mounts) {
        enter_cgroups(plan);
        timer.mark("cgroups");
    }

    UniqueFd root = prepare_root(plan);
    mount_all(plan, root.get());
    timer.mark("mounts");
    create_devices(plan, root.get());
    timer.mark("devices");
    if (join_cgroups_after_mounts) {
        enter_cgroups(plan);
        timer.mark("cgroups");
    }
    // The host's /proc still answers here, with init's pid as the host sees it.
    char self[32] = {};
    int host_pid = ::readlink("/proc/self", self, sizeof self - 1) > 0 ? atoi(self) : 0;
    if (plan.runtime_hooks) {
        SyncMessage reply;
        if (!send_sync(plan.sync_fd, SyncType::hooks) || !receive_sync(plan.sync_fd, reply) ||
            reply.type != SyncType::done)
            _exit(1);  // the parent reports the hook's failure
    }
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
    if (!plan.start_over_sync) {
        fifo_dir.reset(::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!fifo_dir) throw Error("open /proc/self/fd", errno);
    }
    enter_root(plan, root.get());
    timer.mark("pivot_root");
    root.reset();
    if (pty.slave) hand_over_terminal(plan, pty);
    if (plan.no_process) {
        // Created, and it stays so: `start` refuses it, `delete` ends it.
        ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        send_sync(plan.sync_fd, SyncType::ready);
        ::close(plan.sync_fd);
        for (;;) ::pause();
    }

    apply_rlimits(*spec.process);
    change_directory(*spec.process);
    timer.mark("rlimits-cwd");
    apply_process_attributes(plan);
    close_fds_at_exec(plan);
    timer.mark("attributes-fds");
    // Seccomp goes before the user change without NoNewPrivileges, after it with: one phase.
    load_seccomp_early(plan, false);
    become_user(plan);
    load_seccomp_early(plan, true);
    timer.mark("user-caps-seccomp");
    std::string executable = find_executable(*spec.process, plan.env);

    // From here on the parent may exit (create returns): init must outlive it.
    if (::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) != 0) throw Error("prctl PR_SET_PDEATHSIG", errno);
    timer.mark("exec-lookup");
    if (!send_sync(plan.sync_fd, SyncType::ready, 0, timer.summary().c_str())) _exit(1);
    if (plan.start_over_sync) {
        // `run`: the same process starts us; the socket closes at exec (CLOEXEC).
        SyncMessage start;
        if (!receive_sync(plan.sync_fd, start) || start.type != SyncType::start) _exit(1);
    } else {
        ::close(plan.sync_fd);
        // Blocks until `start` opens the fifo for reading.
        std::string fifo_name = std::to_string(plan.fifo_fd);
        fifo_write_fd = ::openat(fifo_dir.get(), fifo_name.c_str(), O_WRONLY | O_CLOEXEC);
        if (fifo_write_fd < 0) {
            dprintf(STDERR_FILENO, "crun-lite: container init: open exec.fifo: %s\n", strerror(errno));
            _exit(1);
        }
        ::close(plan.fifo_fd);
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
    exec_process(plan, executable, fifo_write_fd);
}

}  // namespace

void run_container_init(const InitPlan& plan) { set_up_container(plan); }

void run_in_child(const InitPlan& plan, void (*body)(const InitPlan&)) {
    // Until the child reports READY, it must not outlive a runtime that died half-way.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    close_parent_fds(plan);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);  // the runtime ignores it; the container must not inherit that
    try {
        cgroups::enter_v1_hierarchies(plan.cgroup_tasks_fds.data(), plan.cgroup_tasks_fds.size(), plan.cgroup_tasks_paths);
        body(plan);
    } catch (const Error& e) {
        send_sync(plan.sync_fd, SyncType::error, e.error_number(), e.what());
    } catch (const std::exception& e) {
        send_sync(plan.sync_fd, SyncType::error, 0, e.what());
    }
    _exit(1);
}

}  // namespace crunlite::linux_setup
