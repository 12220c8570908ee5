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

#include "../cgroups/cgroup_entry.hpp"
#include "../cgroups/systemd/scope.hpp"
#include "../linux/spawn.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/hooks.hpp"
#include "crunlite/log.hpp"
#include "crunlite/phase_timer.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"
#include "internal.hpp"
#include "plan.hpp"

namespace crunlite::runtime {
namespace {

std::string absolute_bundle(const std::string& bundle) {
    char resolved[PATH_MAX];
    if (!::realpath(bundle.c_str(), resolved)) throw Error("bundle " + bundle, errno);
    return resolved;
}

std::string own_cgroup() {
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

// Joining a pid namespace only applies to children: the runtime joins it for the one
// clone it makes, and goes back afterwards.
class PidNamespaceForChildren {
public:
    explicit PidNamespaceForChildren(int target_fd) {
        if (target_fd < 0) return;
        original_.reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
        if (!original_) throw Error("open /proc/self/ns/pid", errno);
        if (::setns(target_fd, CLONE_NEWPID) != 0) throw Error("setns into the pid namespace of .linux.namespaces", errno);
    }
    ~PidNamespaceForChildren() {
        if (original_) ::setns(original_.get(), CLONE_NEWPID);
    }

private:
    UniqueFd original_;
};

}  // namespace

CreatedContainer create_container(const std::string& root, const std::string& id, const CreateOptions& options,
                                  bool foreground, bool start_here) {
    PhaseTimer timer;
    state::validate_id(id);
    std::string bundle = absolute_bundle(options.bundle);
    spec::Spec spec = spec::load_bundle(bundle);
    bool has_process = spec.process.has_value();
    if (!has_process) spec.process = spec::Process{};  // setup runs with the defaults; nothing will be exec'd
    if (!spec.process->terminal && !options.console_socket.empty())
        throw Error("--console-socket is only for a process with a terminal, and .process.terminal is false");
    if (spec.process->terminal && !foreground && options.console_socket.empty())
        throw Error(".process.terminal: a detached container needs --console-socket to hand its terminal to");

    timer.mark("parse");
    bool rootless = ::geteuid() != 0;
    if (rootless) check_rootless(spec);
    state::StateFile state_file = state::StateFile::create(root, id);
    std::vector<UniqueFd> namespace_fds;
    int clone_flags = 0, join_pid_fd = -1;
    linux_setup::InitPlan plan = make_init_plan(spec, bundle, options, namespace_fds, clone_flags, join_pid_fd);

    timer.mark("plan");
    // A seccomp filter loaded before READY (without noNewPrivileges) would also judge the
    // recvmsg/sendmsg of START and GOING: such a container keeps exec.fifo, whose open and write
    // are what runc's init needs under the filter too.
    if (spec.linux.seccomp && !spec.process->no_new_privileges) start_here = false;
    plan.start_over_sync = start_here;  // `run`: started over the sync socket, no exec.fifo
    cgroups::Layout layout = cgroups::detect_layout();
    plan.cgroup_layout = &layout;
    // Our own cgroup matters only to a relative path.
    const std::string& wanted_cgroup = spec.linux.cgroups_path;
    bool relative_cgroup = !wanted_cgroup.empty() && wanted_cgroup[0] != '/';
    // --systemd-cgroup: systemd makes the container's cgroup, a transient unit holding init, and
    // the cgroup files then fill in what its properties cannot say. Everything that can be
    // refused is refused here, before anything exists.
    std::optional<cgroups::systemd::UnitPlacement> unit_placement;
    std::optional<cgroups::systemd::Bus> systemd_bus;
    std::vector<cgroups::systemd::UnitProperty> unit_properties;
    if (options.systemd_cgroup && !rootless) {
        unit_placement = cgroups::systemd::place_unit(wanted_cgroup, id);
        if (layout.mode != cgroups::Mode::v2)
            throw Error("--systemd-cgroup: this host has cgroup v1 hierarchies; crun-lite drives systemd on pure cgroup v2 hosts only", 0,
                        "boot with systemd.unified_cgroup_hierarchy=1, or leave out --systemd-cgroup and give a cgroupfs .linux.cgroupsPath");
        unit_properties = cgroups::systemd::scope_properties(id, unit_placement->slice, unit_placement->is_slice);
        if (spec.linux.resources)
            for (auto& p : cgroups::systemd::resource_properties(*spec.linux.resources)) unit_properties.push_back(std::move(p));
        for (auto& p : cgroups::systemd::annotation_properties(spec.annotations)) unit_properties.push_back(std::move(p));
        systemd_bus.emplace(cgroups::systemd::Bus::connect());
    }
    std::string cgroup_path = rootless          ? ""
                              : unit_placement ? unit_placement->cgroup_path
                                               : cgroups::resolve_cgroup_path(wanted_cgroup, id, relative_cgroup ? own_cgroup() : "/");

    // Written now and again as the work goes on, so that even after a SIGKILL of this process
    // `delete --force` finds every cgroup and the init process to end.
    state::Record record;
    record.id = id;
    record.bundle = bundle;
    record.rootfs = spec.root.path;
    record.created = log::rfc3339_now();
    record.oci_version = kSpecVersion;
    record.annotations = spec.annotations;
    record.hooks = hooks::to_json(spec.hooks);
    record.has_process = has_process;
    if (!rootless) record.cgroup_dirs = cgroups::planned_dirs(layout, cgroup_path);
    if (unit_placement) record.systemd_unit = unit_placement->unit;
    UniqueFd fifo;
    if (start_here) {
        state_file.save(record);
    } else {
        state_file.make_exec_fifo(record);  // saves the record, which names the fifo, first
        fifo.reset(::open(state_file.fifo_path().c_str(), O_PATH | O_CLOEXEC));
        if (!fifo) throw Error("open " + state_file.fifo_path(), errno);
        plan.fifo_fd = fifo.get();
    }
    timer.mark("state-fifo");

    std::optional<cgroups::ContainerCgroup> cgroup;
    cgroups::CgroupEntry cgroup_entry;
    const linux_setup::PlannedMount* cgroup_mount = nullptr;
    if (!rootless) {
        cgroup.emplace(layout, cgroup_path);
        plan.cgroup_dirs = cgroup->dirs();
        // cgroup2: init is cloned straight into it; under systemd, the unit's start moves it.
        if (!unit_placement) {
            cgroup->make(true);
            cgroup_entry = cgroups::open_cgroup_entry(cgroup->dirs_of(true));
        }
        plan_cgroup_entry(plan, cgroup_entry);
        plan.cgroups_after_go = true;
        // On v1 (and no user namespace), the parent makes the /sys/fs/cgroup mounts while init
        // mounts the rest.
        for (auto& m : plan.mounts)
            if (m.config->type == "cgroup" && !cgroup_mount) cgroup_mount = &m;
        plan.cgroup_mounts_from_parent = cgroup_mount && !plan.in_user_ns && layout.mode != cgroups::Mode::v2;
        for (auto& d : cgroup->dirs_of(false)) plan.cgroup_tasks_paths.push_back(d + "/tasks");
    }
    plan.id = id;
    plan.bundle = bundle;
    plan.runtime_hooks = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty();
    plan.no_process = !has_process;

    timer.mark("cgroups");
    std::optional<cgroups::systemd::ContainerUnit> unit;  // stopped after init is gone, on failure
    linux_setup::InitProcess init = [&] {
        PidNamespaceForChildren pid_namespace(join_pid_fd);
        return linux_setup::clone_init(plan, clone_flags);
    }();
    timer.mark("clone");
    if (plan.new_user_ns) linux_setup::write_id_mappings(init.pid(), spec.linux, rootless);
    if (unit_placement) {
        // Before GO: init makes its cgroup namespace after GO, rooted where it then is.
        unit.emplace(cgroups::systemd::ContainerUnit::start(*systemd_bus, *unit_placement, cgroup->dirs_of(true).at(0), init.pid(),
                                                                 std::move(unit_properties)));
        timer.mark("systemd-unit");
    }
    finish_cgroup_entry(plan, cgroup_entry, init.pid());
    cgroup_entry = {};
    linux_setup::send_go(init);
    // While init creates its namespaces: the v1 cgroup directories, the bind mounts of them
    // that init attaches at /sys/fs/cgroup, the device rules; then init's pid goes into the
    // state (so that even after a SIGKILL of this process `delete --force` finds it).
    if (cgroup) {
        cgroup->make(false);
        // Sent first: init attaches them while mounting, before it joins the cgroups.
        if (plan.cgroup_mounts_from_parent) linux_setup::send_cgroup_mounts(init, cgroup->dirs(), *cgroup_mount);
        // Before CGROUPS: init's mknods must not meet the moment between "deny all" and the
        // allow rules. On v1 init makes them before it joins; on cgroup2 it is in its cgroup
        // from clone on, and makes them once CGROUPS came.
        cgroup->apply_device_rules(spec);
        // init joins them itself: only a thread writing "0" (itself) to `tasks` skips the
        // kernel's global threadgroup lock, whose write side waits for an RCU grace period
        // (often 10-30 ms); a pid written from here takes it.
        linux_setup::send_cgroups_ready(init, cgroups::open_v1_tasks(cgroup->dirs_of(false)));
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
    UniqueFd console;
    linux_setup::complete_handshake(init, [&] {
        std::string state = hooks::state_json(id, "creating", init.pid(), bundle, spec.annotations);
        hooks::run(spec.hooks.prestart, "prestart", state);
        hooks::run(spec.hooks.create_runtime, "createRuntime", state);
    }, &console, [&](UniqueFd listener) {
        send_to_seccomp_listener(*spec.linux.seccomp, listener.get(), id, init.pid(), "creating", init.pid(), bundle, spec.annotations);
    });
    if (console && !options.console_socket.empty()) {
        send_to_console_socket(options.console_socket, console.get());
        console.reset();
    }

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
    UniqueFd start_socket = start_here ? init.take_sync() : UniqueFd();
    return {init.release(), std::move(record), std::move(console), std::move(start_socket)};
}

int create(const std::string& root, const std::string& id, const CreateOptions& options) {
    // A Ctrl-C half-way would skip every RAII cleanup: termination signals wait until create
    // has either finished or undone its work (init unblocks them for itself after clone).
    sigset_t termination, previous;
    sigemptyset(&termination);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&termination, sig);
    ::sigprocmask(SIG_BLOCK, &termination, &previous);
    struct RestoreMask {
        sigset_t mask;
        ~RestoreMask() { ::sigprocmask(SIG_SETMASK, &mask, nullptr); }
    } restore{previous};
    return create_container(root, id, options, false, false).pid;
}

}  // namespace crunlite::runtime
