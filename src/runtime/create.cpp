// `create`: from bundle to an init process blocked on exec.fifo. Every resource made on
// the way (state file, cgroups, init) is owned by an RAII object until the very end, so a
// failure at any step leaves nothing behind.
#include <fcntl.h>

#include <optional>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/cgroup_entry.hpp"
#include "cgroups/systemd/scope.hpp"
#include "launch/net_devices.hpp"
#include "launch/spawn.hpp"
#include "sys/id_mappings.hpp"
#include "sys/user_namespace.hpp"
#include "plan/userns_cgroup.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/hooks.hpp"
#include "crunlite/log.hpp"
#include "crunlite/phase_timer.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"
#include "runtime/host_root.hpp"
#include "runtime/internal.hpp"
#include "runtime/systemd_unit_plan.hpp"
#include "plan/planner.hpp"

namespace crunlite::runtime {

std::string absolute_bundle(const std::string& bundle) {
    char resolved[PATH_MAX];
    if (!::realpath(bundle.c_str(), resolved)) throw Error("bundle " + bundle, errno);
    return resolved;
}

state::Record first_record(const std::string& id, const std::string& bundle, const spec::Spec& spec) {
    state::Record record;
    record.id = id;
    record.bundle = bundle;
    record.rootfs = spec.root.path;
    record.created = log::rfc3339_now();
    record.oci_version = kSpecVersion;
    record.annotations = spec.annotations;
    return record;
}

std::string runtime_cgroup() {
    // The unified ("0::") line when there is one, else the first hierarchy's.
    FILE* f = ::fopen("/proc/self/cgroup", "re");
    if (!f) return "/";
    char line[4096];
    std::string first, unified;
    while (::fgets(line, sizeof line, f)) {
        std::string l(line);
        if (!l.empty() && l.back() == '\n') l.pop_back();
        auto path = l.substr(l.find(':', l.find(':') + 1) + 1);
        if (first.empty()) first = path;
        if (l.rfind("0::", 0) == 0) unified = path;
    }
    ::fclose(f);
    return unified.empty() ? (first.empty() ? "/" : first) : unified;
}

CreatedContainer create_container(const std::string& root, const std::string& id, const CreateOptions& options,
                                  bool foreground, bool start_here) {
    PhaseTimer timer;
    state::validate_id(id);
    std::string bundle = absolute_bundle(options.bundle);
    spec::Spec spec = spec::load_bundle(bundle);
    // What the parse went on without (an unknown capability...): one warning line each.
    for (const spec::SpecWarning& w : spec.warnings) log::warning(w.path + ": " + w.message);
    bool has_process = spec.process.has_value();
    if (!has_process) spec.process = spec::Process{};  // setup runs with the defaults; nothing will be exec'd
    if (!spec.process->terminal && !options.console_socket.empty())
        throw Error("--console-socket is only for a process with a terminal, and .process.terminal is false");
    if (spec.process->terminal && !foreground && options.console_socket.empty())
        throw Error(".process.terminal: a detached container needs --console-socket to hand its terminal to");

    timer.mark("parse");
    bool rootless = ::geteuid() != 0;
    if (rootless) planning::check_rootless(spec);
    // uid 0 of a user namespace (rootless podman and docker run us so): root in name only.
    bool runtime_in_user_ns = !rootless && sys::in_user_namespace();
    // Either way the host's cgroups are ours only where they were delegated to the user.
    bool unprivileged = rootless || runtime_in_user_ns;
    cgroups::Layout layout = cgroups::detect_layout();
    // Our own cgroup matters only to a relative path.
    const std::string& wanted_cgroup = spec.linux.cgroups_path;
    bool relative_cgroup = !wanted_cgroup.empty() && wanted_cgroup[0] != '/';
    // --systemd-cgroup: systemd makes the container's cgroup, a transient unit holding init, and
    // the cgroup files then fill in what its properties cannot say.
    const cgroups::systemd::Manager manager = unprivileged ? cgroups::systemd::Manager::user : cgroups::systemd::Manager::system;
    std::optional<SystemdUnitPlan> systemd;
    if (options.systemd_cgroup) systemd.emplace(plan_systemd_unit(spec, id, layout, manager));
    const cgroups::systemd::UnitPlacement* unit_placement = systemd ? &systemd->placement : nullptr;
    std::string cgroup_path = unit_placement ? unit_placement->cgroup_path
                                             : cgroups::resolve_cgroup_path(wanted_cgroup, id, relative_cgroup ? runtime_cgroup() : "/");
    // Unprivileged, the cgroup is ours only where the host delegated it (systemd makes the
    // unit's itself); without one the container stays in the runtime's cgroup.
    bool own_cgroup = !unprivileged || unit_placement ||
                      planning::userns_can_have_cgroup(spec, cgroups::planned_dirs(layout, cgroup_path), rootless);
    if (!own_cgroup) cgroup_path.clear();
    std::optional<cgroups::ContainerCgroup> cgroup;  // makes nothing yet
    if (own_cgroup) cgroup.emplace(layout, cgroup_path);

    planning::CreateTarget target;
    target.id = id;
    target.bundle = bundle;
    target.layout = layout;
    if (cgroup) target.cgroup_dirs = cgroup->dirs();
    target.start_over_socket = start_here;
    target.has_process = has_process;
    target.runtime_in_user_ns = runtime_in_user_ns;
    const planning::LaunchPlan plan = planning::plan_create(spec, options, target);
    const planning::InitPlan& init_plan = plan.init;
    for (const planning::PlannedMount& m : init_plan.mounts)
        for (auto& [path, option] : m.options.ignored_on_bind)
            log::warning(path + ": \"" + option + "\" is filesystem data, which the kernel ignores on a bind mount; ignored");
    timer.mark("plan");
    PidfdSocket pidfd_socket(options.pidfd_socket);

    state::StateFile state_file = state::StateFile::create(root, id);
    // Written now and again as the work goes on, so that even after a SIGKILL of this process
    // `delete --force` finds every cgroup and the init process to end.
    state::Record record = first_record(id, bundle, spec);
    record.hooks = hooks::to_json(spec.hooks);
    record.has_process = has_process;
    if (cgroup) record.cgroup_dirs = cgroups::planned_dirs(layout, cgroup_path);
    if (unit_placement) record.systemd_unit = unit_placement->unit;
    record.systemd_user = unit_placement && manager == cgroups::systemd::Manager::user;
    planning::InitHandoff handoff;
    // No mount namespace of its own: the one mount it leaves in the host's until `delete`,
    // recorded before init can mount anything on it.
    std::optional<HostRoot> host_root;
    if (init_plan.shares_mount_ns) {
        host_root.emplace(HostRoot::attach(spec.root.path));
        record.host_root_mount_id = host_root->id();
        record.host_root_unique_id = host_root->unique_id();
        handoff.host_root.reset(::fcntl(host_root->fd(), F_DUPFD_CLOEXEC, 3));
        if (!handoff.host_root) throw Error("dup the container's root mount", errno);
    }
    if (init_plan.start_over_socket) {
        state_file.save(record);
    } else {
        state_file.make_exec_fifo(record);  // saves the record, which names the fifo, first
        handoff.exec_fifo.reset(::open(state_file.fifo_path().c_str(), O_PATH | O_CLOEXEC));
        if (!handoff.exec_fifo) throw Error("open " + state_file.fifo_path(), errno);
    }
    timer.mark("state-fifo");

    // cgroup2: init is cloned straight into it; under systemd, the unit's start moves it.
    if (cgroup && !unit_placement) {
        cgroup->make(true);
        handoff.cgroup_entry = cgroups::open_cgroup_entry(cgroup->dirs_of(true));
    }
    timer.mark("cgroups");
    std::optional<cgroups::systemd::ContainerUnit> unit;  // stopped after init is gone, on failure
    launch::InitProcess init = launch::clone_container_init(plan, handoff);
    timer.mark("clone");
    if (init_plan.new_user_ns) sys::write_id_mappings(init.pid(), spec.linux, rootless);
    if (unit_placement) {
        // Before GO: init makes its cgroup namespace after GO, rooted where it then is.
        unit.emplace(cgroups::systemd::ContainerUnit::start(systemd->bus, *unit_placement, cgroup->dirs_of(true).at(0), init.pid(),
                                                                 std::move(systemd->properties)));
        timer.mark("systemd-unit");
    }
    launch::enter_cgroup2(init, handoff.cgroup_entry);
    handoff = {};
    // linux.intelRdt: init is in its CLOS (and monitoring group) before it can fork or exec.
    std::optional<resctrl::Group> rdt_group;
    if (plan.resctrl) {
        rdt_group.emplace(*plan.resctrl, init.pid());
        const resctrl::Placement& at = rdt_group->placement();
        record.resctrl_group = at.group_dir;
        record.resctrl_mon_group = at.mon_dir;
        record.resctrl_made_group = at.made_group;
        record.resctrl_made_mon_group = at.made_mon;
        state_file.save(record);
    }
    launch::MovedNetDevices net_devices = launch::move_net_devices(plan, init.pid());
    init.go();
    // While init creates its namespaces: the v1 cgroup directories, the bind mounts of them
    // that init attaches at /sys/fs/cgroup, the device rules; then init's pid goes into the
    // state (so that even after a SIGKILL of this process `delete --force` finds it).
    if (cgroup) {
        cgroup->make(false);
        // Sent first: init attaches them while mounting, before it joins the cgroups.
        if (init_plan.cgroups.mount_from_runtime)
            init.send_cgroup_mounts(launch::make_cgroup_mounts(cgroup->dirs(), init_plan.mounts[*init_plan.cgroups.mount_from_runtime]));
        // Before CGROUPS: init's mknods must not meet the moment between "deny all" and the
        // allow rules. On v1 init makes them before it joins; on cgroup2 it is in its cgroup
        // from clone on, and makes them once CGROUPS came.
        // In a user namespace no node can be made, and the kernel takes device rules (v1's
        // devices.deny, v2's eBPF filter) only from the host's root: left out, as runc does.
        if (!unprivileged) cgroup->apply_device_rules(spec);
        // init joins them itself: only a thread writing "0" (itself) to `tasks` skips the
        // kernel's global threadgroup lock, whose write side waits for an RCU grace period; a
        // pid written from here takes it.
        init.send_cgroups(cgroups::open_v1_tasks(cgroup->dirs_of(false)));
    }
    record.pid = init.pid();
    record.pid_start_time = state::live_process_start_time(init.pid()).value_or(0);
    record.created = log::rfc3339_now();  // the container exists from here on
    state_file.save(record);
    // The limits while init mounts its root filesystem: they must bind the container's
    // process, which init execs only after the handshake below (runc, too, sets them once
    // init has joined).
    if (cgroup && spec.linux.resources) cgroup->apply_resources(*spec.linux.resources);
    timer.mark("cgroups-state");
    launch::InitProcess::Ready ready = init.wait_ready({
        .run_runtime_hooks =
            [&] {
                std::string state = hooks::state_json(id, "creating", init.pid(), bundle, spec.annotations);
                hooks::run(spec.hooks.prestart, "prestart", state);
                hooks::run(spec.hooks.create_runtime, "createRuntime", state);
            },
        .take_seccomp_listener =
            [&](UniqueFd listener) {
                send_to_seccomp_listener(*spec.linux.seccomp, listener.get(), id, init.pid(), "creating", init.pid(), bundle,
                                         spec.annotations);
            },
    });
    if (!ready.timeline.empty()) log::debug("init phases: " + ready.timeline);
    UniqueFd console = std::move(ready.console);
    if (console && !options.console_socket.empty()) {
        send_to_console_socket(options.console_socket, console.get());
        console.reset();
    }

    pidfd_socket.send(init.pid(), "standard");

    timer.mark("init-setup");
    log::debug("container " + id + ": init is pid " + std::to_string(init.pid()));
    if (record.pid != init.pid()) {  // init handed over to a child in its pid namespace
        record.pid = init.pid();
        record.pid_start_time = state::live_process_start_time(init.pid()).value_or(0);
        state_file.save(record);
    }
    if (!options.pid_file.empty()) state::write_file_atomically(options.pid_file, std::to_string(init.pid()));

    timer.mark("state-write");
    log::debug("create phases: " + timer.summary());
    state_file.keep();
    if (cgroup) cgroup->keep();
    if (unit) unit->keep();
    if (rdt_group) rdt_group->keep();
    if (host_root) host_root->keep();
    net_devices.keep();
    std::optional<sys::Channel> start_channel;
    if (init_plan.start_over_socket) start_channel.emplace(init.take_start_channel());
    return {init.release(), std::move(record), std::move(console), std::move(start_channel)};
}

int create(const std::string& root, const std::string& id, const CreateOptions& options) {
    // A Ctrl-C half-way would skip every RAII cleanup: termination signals wait until create
    // has either finished or undone its work (init unblocks them for itself after clone).
    ScopedSignalBlock held_back(ScopedSignalBlock::termination());
    return create_container(root, id, options, false, false).pid;
}

}  // namespace crunlite::runtime
