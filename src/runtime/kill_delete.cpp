// `kill` and `delete`: signalling a container and removing every trace of it.
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <cctype>

#include "cgroups/systemd/scope.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/hooks.hpp"
#include "crunlite/log.hpp"
#include "crunlite/phase_timer.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"
#include "runtime/host_root.hpp"
#include "runtime/internal.hpp"
#include "resctrl/resctrl.hpp"

namespace crunlite::runtime {
namespace {

void signal_cgroup_members(const state::Record& r, int signal) {
    for (int pid : cgroups::pids_in(r.cgroup_dirs))
        if (::kill(pid, signal) != 0 && errno != ESRCH) throw Error("kill pid " + std::to_string(pid), errno);
}

void signal_container(const state::StateFile& state_file, int signal, bool all) {
    const state::Record& r = state_file.record();
    if (all) signal_cgroup_members(r, signal);
    // Through a pidfd, so a pid recycled since the status check cannot be hit.
    UniqueFd init(int(::syscall(SYS_pidfd_open, r.pid, 0)));
    if (!init) {
        // With `all`, init may have been among the cgroup's processes just killed, and reaped at
        // once by a foreground `run`: the container is ending, as asked.
        if (errno == ESRCH && all) return;
        if (errno == ESRCH) throw Error("container not running");
        throw Error("pidfd_open " + std::to_string(r.pid), errno);
    }
    if (::syscall(SYS_pidfd_send_signal, init.get(), signal, nullptr, 0) != 0 && !(all && errno == ESRCH))
        throw Error(errno == ESRCH ? std::string("container not running") : "kill container init", errno == ESRCH ? 0 : errno);
}

void wait_for_exit(int pid) {
    UniqueFd init(int(::syscall(SYS_pidfd_open, pid, 0)));
    if (!init) return;  // already gone
    pollfd fd{init.get(), POLLIN, 0};
    while (::poll(&fd, 1, 10000) < 0 && errno == EINTR) {}
}

}  // namespace

int parse_signal(const std::string& text) {
    if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit)) {
        int n = std::stoi(text.size() > 4 ? "99999" : text);
        if (n >= NSIG) throw Error("invalid signal \"" + text + "\"", 0, "signal numbers go up to " + std::to_string(NSIG - 1));  // 0 probes, as kill(1) does
        return n;
    }
    std::string name = text;
    std::transform(name.begin(), name.end(), name.begin(), ::toupper);
    if (name.rfind("SIG", 0) == 0) name = name.substr(3);
    for (int sig = 1; sig < NSIG; ++sig) {
        const char* abbrev = sigabbrev_np(sig);
        if (abbrev && name == abbrev) return sig;
    }
    if (name == "IOT") return SIGABRT;
    if (name == "IO") return SIGIO;  // glibc names 29 "POLL"; runc and kill(1) know it as SIGIO
    if (name == "CLD") return SIGCHLD;
    throw Error("unknown signal \"" + text + "\"", 0, "give a name such as TERM, SIGKILL or HUP, or a number (kill -l lists them)");
}

void kill(const std::string& root, const std::string& id, int signal, bool all) {
    state::StateFile state_file = state::StateFile::open(root, id);
    if (state_file.status() == state::Status::stopped) {
        // `kill --all` asks that nothing of the container be left running. Its init is gone, but
        // without a pid namespace other processes may outlive it in its cgroup: they get the
        // signal. runc exits 0 here, and containerd's shim calls this on every stopped container
        // (an error would be logged as "killall failed" each time).
        if (all) {
            signal_cgroup_members(state_file.record(), signal);
            return;
        }
        throw Error("container not running");
    }
    signal_container(state_file, signal, all);
}

void remove(const std::string& root, const std::string& id, bool force) {
    std::optional<state::StateFile> opened;
    try {
        opened.emplace(state::StateFile::open(root, id));
    } catch (const NotFoundError&) {
        if (!force) throw;
        // Callers clean up with `delete --force` and expect success when it is gone; a directory
        // without a state file is what a create killed right after mkdir leaves: remove it.
        state::StateFile::remove_unrecorded(root, id);
        return;
    }
    state::StateFile& state_file = *opened;
    state::Status status = state_file.status();
    if (status == state::Status::running || status == state::Status::paused) {
        if (!force)
            throw Error("cannot delete container " + id + " that is not stopped: " + state::status_name(status));
    }
    remove_whatever_its_status(state_file);
}

void remove_whatever_its_status(state::StateFile& state_file) {
    state::Status status = state_file.status();
    if (status != state::Status::stopped) {
        // A created container has no user program yet: deleting it just ends init, as runc does.
        signal_container(state_file, SIGKILL, true);
        // Frozen tasks cannot act on SIGKILL until they are thawed.
        if (status == state::Status::paused) cgroups::set_frozen(state_file.record().cgroup_dirs, false);
        wait_for_exit(state_file.record().pid);
    }
    remove_stopped(state_file);
}

void remove_stopped(state::StateFile& state_file) {
    PhaseTimer timer;
    const state::Record& r = state_file.record();
    if (!r.systemd_unit.empty()) {
        // The unit goes first, so that systemd removes its cgroup; whatever outlived init is
        // ended before, or stopping the unit would wait for it (SIGTERM, then 90 s).
        if (!cgroups::pids_in(r.cgroup_dirs).empty()) cgroups::kill_all(r.cgroup_dirs);
        try {
            cgroups::systemd::Bus bus = cgroups::systemd::Bus::connect(r.systemd_user ? cgroups::systemd::Manager::user : cgroups::systemd::Manager::system);
            cgroups::systemd::remove_unit(bus, r.systemd_unit);
        } catch (const Error& e) {
            // The user's systemd is reached through the caller's environment (XDG_RUNTIME_DIR)
            // and may be gone (the user logged out): the container must still go. systemd
            // collects a scope whose processes are gone; the cgroup is removed below.
            if (!r.systemd_user) throw;
            log::warning("the user's systemd did not take the stop of " + r.systemd_unit + " (" + e.what() +
                         "); removing the container without it");
        }
        timer.mark("systemd-unit");
    }
    // Usually nothing is left in the cgroups once init is gone (a pid namespace ends with its
    // init), and one rmdir each does. Otherwise processes outlived init (no pid namespace of
    // its own): end them, then remove the trees.
    if (!cgroups::remove_if_empty(r.cgroup_dirs)) {
        cgroups::kill_all(r.cgroup_dirs);
        timer.mark("kill-all");
        cgroups::remove(r.cgroup_dirs);
    }
    timer.mark("remove-cgroups");
    if (r.host_root_mount_id || r.host_root_unique_id) {
        detach_host_root(r.rootfs, r.host_root_mount_id, r.host_root_unique_id);
        timer.mark("host-root");
    }
    // A resctrl group that will not go (a task of the host moved into it meanwhile) must not
    // keep the rest of the container, its state file among them, from going.
    try {
        resctrl::remove({r.resctrl_group, r.resctrl_mon_group, r.resctrl_made_group, r.resctrl_made_mon_group});
    } catch (const Error& e) {
        log::warning(std::string("delete: ") + e.what());
    }
    std::vector<spec::Hook> poststop = hooks::from_json(r.hooks).poststop;
    if (!poststop.empty())
        hooks::run_warning_on_failure(poststop, "poststop", hooks::state_json(r.id, "stopped", 0, r.bundle, r.annotations));
    state_file.remove();
    timer.mark("hooks-state");
    log::debug("container " + r.id + " deleted: " + timer.summary());
}

}  // namespace crunlite::runtime
