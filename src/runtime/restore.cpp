// `restore`: a container made again from a checkpoint image. Its cgroups come first, with the
// config's limits and device rules, as create makes them (with --systemd-cgroup: the unit, made
// with CRIU in it before CRIU runs); CRIU then restores the process tree into them from a mount
// namespace of its own, handing the caller's stdio pipes to the restored process where the
// image had pipes (--inherit-fd, as containerd's shim expects of runc). The
// config's prestart and createRuntime hooks run while CRIU waits at its setup-namespaces step.
// Until the state file is complete, every piece is owned by an RAII object: a failure leaves no
// state file, cgroup, mount or process behind.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <optional>

#include "criu/action_script.hpp"
#include "criu/container_image.hpp"
#include "criu/criu.hpp"
#include "cgroups/systemd/scope.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/hooks.hpp"
#include "crunlite/log.hpp"
#include "crunlite/state.hpp"
#include "runtime/criu_options.hpp"
#include "runtime/internal.hpp"
#include "runtime/systemd_unit_plan.hpp"
#include "sys/loopback.hpp"

namespace crunlite::runtime {
namespace {

// Ends whatever CRIU restored into the container's cgroups unless the restore completes; the
// systemd unit and the ContainerCgroup declared before it then remove the directories.
class KillRestoredUnlessKept {
public:
    explicit KillRestoredUnlessKept(const std::vector<std::string>& dirs) : dirs_(dirs) {}
    ~KillRestoredUnlessKept() {
        if (kept_) return;
        try {
            if (!cgroups::pids_in(dirs_).empty()) cgroups::kill_all(dirs_);
        } catch (const Error& e) {
            log::warning(std::string("restore: end the restored processes: ") + e.what());
        }
    }
    KillRestoredUnlessKept(const KillRestoredUnlessKept&) = delete;
    KillRestoredUnlessKept& operator=(const KillRestoredUnlessKept&) = delete;
    void keep() { kept_ = true; }

private:
    const std::vector<std::string>& dirs_;
    bool kept_ = false;
};

// Runs in CRIU's child between fork and exec: a mount namespace of its own, in which the
// container's root is a mount point (CRIU pivots into it), and the container's cgroups (none to
// join under systemd, whose unit took CRIU in), so that the restored tree lands in them. Returns
// an error text, "" on success.
std::string enter_restore_context(const std::string& rootfs, const std::vector<std::string>& cgroup_procs_files) {
    if (::unshare(CLONE_NEWNS) != 0) return "restore: unshare the mount namespace: " + Error::errno_text(errno);
    // Slave, not private: the restored container's mounts that were slaves of the host's shared
    // mounts (a systemd host shares /) get their peer group back from these copies, and CRIU
    // cannot take one from a private mount. Nothing mounted here reaches the host.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) return "restore: make / a slave: " + Error::errno_text(errno);
    if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return "restore: bind " + rootfs + ": " + Error::errno_text(errno);
    for (const std::string& procs : cgroup_procs_files) {
        int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ::write(fd, "0", 1) != 1) return "restore: join " + procs + ": " + Error::errno_text(errno);
        ::close(fd);
    }
    return "";
}

// The file each hierarchy's directory takes a process in by: cgroup.procs (v2, and v1's) else tasks.
std::vector<std::string> procs_files(const std::vector<std::string>& dirs) {
    std::vector<std::string> files;
    for (const std::string& dir : dirs)
        files.push_back(::access((dir + "/cgroup.procs").c_str(), F_OK) == 0 ? dir + "/cgroup.procs" : dir + "/tasks");
    return files;
}

int read_pid_file(const std::string& path) {
    std::ifstream in(path);
    int pid = 0;
    if (!(in >> pid) || pid <= 0) throw Error("restore: CRIU wrote no pid to " + path);
    return pid;
}

}  // namespace

namespace {

// Everything but the wait: returns the complete record once the container runs, its state file
// unlocked again (for `state` and `kill` while a foreground restore waits).
state::Record restore_container(const std::string& root, const std::string& id, const RestoreOptions& options, bool systemd_cgroup) {
    state::validate_id(id);
    refuse_rootless_criu_caller("restore");
    if (!options.console_socket.empty())
        throw Error("restore: --console-socket: restoring a container with a terminal is not supported by crun-lite");
    std::vector<std::string> args = common_criu_args(options);
    // The pages come from a `criu lazy-pages` daemon the caller runs (as runc's users do), over
    // its socket in the work directory.
    if (options.lazy_pages) args.push_back("--lazy-pages");
    if (auto reason = criu::unusable_reason()) throw Error("restore: " + *reason, 0, "`crun-lite check` says why, too");

    std::string bundle = absolute_bundle(options.bundle);
    spec::Spec spec = spec::load_bundle(bundle);
    if (spec.process && spec.process->terminal)
        throw Error("restore: .process.terminal: restoring a container with a terminal is not supported by crun-lite");
    std::string image_dir = absolute_path(options.image_path);
    std::string work_dir = options.work_path.empty() ? image_dir : absolute_path(options.work_path);
    if (::access((image_dir + "/inventory.img").c_str(), R_OK) != 0)
        throw Error("restore: --image-path " + image_dir + ": no checkpoint image there", errno, "give the directory `checkpoint --image-path` wrote");
    std::vector<std::string> descriptors = criu::load_descriptors(image_dir);

    cgroups::Layout layout = cgroups::detect_layout();
    // --systemd-cgroup: a transient unit, as create makes it, taking CRIU in (runc does the same).
    std::optional<SystemdUnitPlan> systemd;
    if (systemd_cgroup) systemd.emplace(plan_systemd_unit(spec, id, layout, cgroups::systemd::Manager::system));
    const std::string& wanted = spec.linux.cgroups_path;
    std::string cgroup_path = systemd ? systemd->placement.cgroup_path
                                      : cgroups::resolve_cgroup_path(wanted, id, !wanted.empty() && wanted[0] != '/' ? runtime_cgroup() : "/");

    state::StateFile state_file = state::StateFile::create(root, id);
    state::Record record = first_record(id, bundle, spec);
    record.hooks = hooks::to_json(spec.hooks);  // poststop at delete
    record.cgroup_dirs = cgroups::planned_dirs(layout, cgroup_path);
    if (systemd) record.systemd_unit = systemd->placement.unit;
    state_file.save(record);

    // The cgroups first, limits included: CRIU (soft mode) keeps the properties of cgroups
    // that exist, and the restored processes are bound by them from their first instruction.
    // A systemd unit needs a process to exist: it is made with CRIU in it (below).
    cgroups::ContainerCgroup cgroup(layout, cgroup_path);
    auto limit = [&] {
        cgroup.apply_device_rules(spec);
        if (spec.linux.resources) cgroup.apply_resources(*spec.linux.resources);
    };
    if (!systemd) {
        cgroup.make(true);
        cgroup.make(false);
        limit();
    }
    std::optional<cgroups::systemd::ContainerUnit> unit;  // stopped once what CRIU restored is ended
    KillRestoredUnlessKept restored(record.cgroup_dirs);

    std::string pid_file = work_dir + "/restore.pid";
    ::unlink(pid_file.c_str());
    for (const std::string& word : {std::string("--images-dir"), image_dir, std::string("--root"), spec.root.path,
                                    std::string("--restore-detached"), std::string("--restore-sibling"), std::string("--pidfile"), pid_file,
                                    std::string("--cgroup-root"), cgroup_path})
        args.push_back(word);
    for (const criu::ExternalMount& m : criu::restore_external_mounts(spec, bundle)) args.insert(args.end(), {"--ext-mount-map", m.arg()});
    criu::make_bind_mount_points(spec, bundle);

    subprocess::Options criu_options;
    std::vector<UniqueFd> handed_over;  // kept open until CRIU has run
    auto hand_over = [&](int fd, const std::string& resource) {
        UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
        if (!copy) throw Error("restore: dup descriptor " + std::to_string(fd), errno);
        args.insert(args.end(), {"--inherit-fd", "fd[" + std::to_string(copy.get()) + "]:" + resource});
        criu_options.pass_fds.push_back(copy.get());
        handed_over.push_back(std::move(copy));
    };
    // The image's stdio pipes become ours (the caller's, e.g. a shim's), as runc hands them.
    for (size_t fd = 0; fd < descriptors.size() && fd <= 2; ++fd)
        if (descriptors[fd].rfind("pipe:", 0) == 0) hand_over(int(fd), descriptors[fd]);
    // So do its stdio files, which the image holds as external files.
    for (const criu::ExternalStdio& f : criu::load_external_stdio(image_dir)) hand_over(f.fd, f.key);
    if (const spec::Namespace* netns = network_namespace(spec)) {
        if (!netns->path.empty()) {
            UniqueFd ns(::open(netns->path.c_str(), O_RDONLY | O_CLOEXEC));
            if (!ns) throw Error(".linux.namespaces: open network namespace " + netns->path, errno);
            hand_over(ns.get(), kExternalNetNsKey);
        } else {
            for (const std::string& word : dump_network_args(spec, options)) args.push_back(word);
        }
    }
    // CRIU puts what it restores into its own cgroups (--cgroup-root names the container's): it
    // joins the container's itself, or is taken into the systemd unit before it runs.
    std::vector<std::string> joined = systemd ? std::vector<std::string>{} : procs_files(record.cgroup_dirs);
    if (systemd)
        criu_options.after_fork = [&](pid_t criu_pid) {
            unit.emplace(cgroups::systemd::ContainerUnit::start(systemd->bus, systemd->placement, cgroup.dirs_of(true).at(0), criu_pid,
                                                                std::move(systemd->properties)));
            limit();
        };
    std::string rootfs = spec.root.path;
    criu_options.before_exec = [&rootfs, &joined] { return enter_restore_context(rootfs, joined); };
    // As runc: the prestart and createRuntime hooks run once CRIU has made the namespaces of the
    // restored tree, before any of it runs; the pid they are told is the restored init's.
    std::optional<criu::SetupNamespacesAction> action;
    if (!spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty()) {
        action.emplace(absolute_path(root));
        for (const std::string& word : action->criu_args()) args.push_back(word);
        criu_options.watch_fd = action->request_fd();
        criu_options.on_watch_readable = [&] {
            action->answer([&](int pid) {
                std::string state = hooks::state_json(id, "creating", pid, bundle, spec.annotations);
                hooks::run(spec.hooks.prestart, "prestart", state);
                hooks::run(spec.hooks.create_runtime, "createRuntime", state);
            });
        };
    }
    try {
        criu::run("restore", args, work_dir, "restore.log", criu_options);
    } catch (const Error&) {
        // CRIU's line would only say that the action script failed: the hook's says why.
        if (action && action->failure()) std::rethrow_exception(action->failure());
        throw;
    }
    action.reset();
    handed_over.clear();

    record.pid = read_pid_file(pid_file);
    record.pid_start_time = state::live_process_start_time(record.pid).value_or(0);
    if (!record.pid_start_time) throw Error("restore: the restored process " + std::to_string(record.pid) + " is gone already");
    if (const spec::Namespace* netns = network_namespace(spec); netns && netns->path.empty()) {
        // CRIU made the container's network namespace empty (criu_options.hpp): loopback is down.
        UniqueFd ns(::open(("/proc/" + std::to_string(record.pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns) throw Error("restore: open the network namespace of process " + std::to_string(record.pid), errno);
        sys::bring_up_loopback(ns.get());
    }
    record.created = log::rfc3339_now();
    state_file.save(record);
    if (!options.pid_file.empty()) state::write_file_atomically(options.pid_file, std::to_string(record.pid));
    state_file.keep();
    cgroup.keep();
    if (unit) unit->keep();
    restored.keep();
    return record;
}

}  // namespace

int restore(const std::string& root, const std::string& id, const RestoreOptions& options, bool systemd_cgroup) {
    // Signals wait in a queue from now on, to be forwarded once the container runs; a detached
    // restore holds back termination signals until the container is recorded or undone.
    ScopedSignalBlock signals_queued(options.detach ? ScopedSignalBlock::termination() : ScopedSignalBlock::all());
    state::Record record = restore_container(root, id, options, systemd_cgroup);
    if (options.detach) return 0;
    int status = wait_forwarding_signals(record.pid);
    try {
        state::StateFile stopped = state::StateFile::reopen(root, record);
        remove_stopped(stopped);
    } catch (const NotFoundError&) {
    } catch (const Error& e) {
        log::warning("delete after restore: " + std::string(e.what()));
    }
    return status;
}

}  // namespace crunlite::runtime
