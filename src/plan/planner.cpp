#include "plan/planner.hpp"

#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "sys/in_root.hpp"
#include "sys/user_namespace.hpp"
#include "plan/idmap_userns.hpp"
#include "plan/idmapped_bind.hpp"
#include "plan/userns_cgroup.hpp"
#include "sys/lsm.hpp"
#include "plan/mount_options.hpp"
#include "cgroups/cgroup_file.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "spec/json_field.hpp"
#include "spec/namespace_kinds.hpp"
#include "util/passwd.hpp"
#include "util/text.hpp"

namespace crunlite::planning {
namespace {

using spec::NamespaceKind;

std::vector<PlannedMount> plan_mounts(const spec::Spec& spec, const std::string& bundle) {
    std::vector<PlannedMount> out;
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        const spec::Mount& m = spec.mounts[i];
        PlannedMount p;
        p.config = &m;
        p.json_path = ".mounts[" + std::to_string(i) + "]";
        p.options = parse_mount_options(m.options, m.type, p.json_path + ".options");
        if (p.options.remount) {
            // It changes the mount an earlier entry made at the destination: no source or type of its own.
        } else if (p.options.bind) {
            if (m.source.empty()) throw SpecError(p.json_path + ".source", "is required for a bind mount");
            p.source = m.source[0] == '/' ? m.source : bundle + "/" + m.source;
            struct stat st{};
            bool keep_symlink = p.options.src_nofollow || p.options.copy_symlink;
            if ((keep_symlink ? ::lstat(p.source.c_str(), &st) : ::stat(p.source.c_str(), &st)) != 0)
                throw Error(p.json_path + ".source: bind source " + p.source, errno,
                            errno == ENOENT ? "create it on the host, or fix the path (a relative source is resolved against the bundle)" : "");
            p.target_is_directory = S_ISDIR(st.st_mode);
            if (p.options.copy_symlink && S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = ::readlink(p.source.c_str(), target, sizeof target);
                if (n < 0 || size_t(n) >= sizeof target) throw Error(p.json_path + ".source: readlink " + p.source, n < 0 ? errno : ENAMETOOLONG);
                p.symlink_copy.assign(target, size_t(n));
            }
        } else if (m.type.empty() || m.type == "none") {
            throw SpecError(p.json_path + ".type", "is required unless the mount is a bind mount");
        }
        bool mapped = !m.uid_mappings.empty() || !m.gid_mappings.empty();
        if (mapped || p.options.idmap) {
            if (!p.options.bind) throw SpecError(p.json_path + ".options", "an idmapped mount must be a bind mount");
            // Without mappings of its own, the mount takes the container's (runtime-spec mountExtensions).
            const auto& uids = m.uid_mappings.empty() ? spec.linux.uid_mappings : m.uid_mappings;
            const auto& gids = m.gid_mappings.empty() ? spec.linux.gid_mappings : m.gid_mappings;
            if (uids.empty() || gids.empty())
                throw SpecError(p.json_path + ".uidMappings", "an idmapped mount needs uid and gid mappings (its own or the container's)");
            p.idmapped_tree = make_idmapped_bind(p, make_user_namespace(uids, gids, p.json_path).get());
        }
        out.push_back(std::move(p));
    }
    return out;
}

// HOME as the container's /etc/passwd gives it for the process's uid, read in-root.
std::string home_directory(const spec::Spec& spec) {
    UniqueFd root(::open(spec.root.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return "/";
    // The image is hostile: O_NONBLOCK so that a fifo there cannot hold the runtime in open(),
    // and only a regular file is read (a device could be read forever; read_fd stops at 1 MiB).
    UniqueFd passwd = sys::open_in_root(root.get(), "/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY);
    struct stat st{};
    if (!passwd || ::fstat(passwd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return "/";
    return passwd_home_directory_from_fd(passwd.get(), spec.process->user.uid);
}

}  // namespace

// What an unprivileged user cannot have: refused up front, naming the field.
void check_rootless(const spec::Spec& spec) {
    const spec::Namespace* user = spec.linux.find_namespace(spec::NamespaceKind::user);
    if (!user || !user->path.empty())
        throw Error(JsonPath{".linux.namespaces"}, "a container run by an unprivileged user needs a new \"user\" namespace "
                    "(crun-lite spec --rootless writes such a config)");
    if (!spec.process->user.additional_gids.empty())
        throw Error(JsonPath{".process.user.additionalGids"}, "an unprivileged user cannot give the container supplementary groups");
    if (!spec.linux.net_devices.empty())
        throw Error(JsonPath{".linux.netDevices"}, "an unprivileged user cannot move the host's network interfaces");
}

SeccompProgram compile_seccomp_logged(const spec::Seccomp& seccomp) {
    SeccompProgram program = compile_seccomp(seccomp);
    for (auto& name : program.skipped) log::debug("seccomp: syscall \"" + name + "\" is unknown to this libseccomp; skipped");
    return program;
}

int last_capability() {
    std::string text;
    if (!text::read_file("/proc/sys/kernel/cap_last_cap", text) || text.empty() || text[0] < '0' || text[0] > '9') return 40;
    return std::atoi(text.c_str());
}

std::vector<std::string> process_environment(const spec::Spec& spec) {
    std::vector<std::string> env = spec.process->env;
    bool has_home = false;
    for (auto& e : env) has_home |= e.rfind("HOME=", 0) == 0;
    if (!has_home) env.push_back("HOME=" + home_directory(spec));
    return env;
}

namespace {

// Where the seccomp filter loads (init_plan.hpp, SeccompLoad).
SeccompLoad seccomp_load_point(const InitPlan& plan) {
    if (!plan.seccomp) return SeccompLoad::none;
    bool nnp = plan.spec->process->no_new_privileges;
    if (!nnp) return SeccompLoad::before_user_change;
    return plan.seccomp->notify ? SeccompLoad::after_user_change : SeccompLoad::at_exec;
}

// linux.memoryPolicy for the container's processes (init and exec'd ones alike: a policy
// belongs to a task and is inherited by its children, never reaches a process from outside).
std::optional<MemoryPolicyPlan> plan_memory_policy(const spec::Spec& spec) {
    if (!spec.linux.memory_policy) return std::nullopt;
    const spec::MemoryPolicy& policy = *spec.linux.memory_policy;
    MemoryPolicyPlan plan;
    plan.mode = policy.mode | int(policy.flags);
    plan.nodes = sys::bit_mask(policy.nodes);
    // The kernel reads maxnode - 1 bits (a historical off-by-one that libnuma works around too).
    plan.max_node = plan.nodes.size() * sizeof(unsigned long) * 8 + 1;
    return plan;
}

// The process part of a plan, the same for create and exec.
void plan_process(const spec::Spec& spec, unsigned preserve_fds, InitPlan& plan) {
    plan.spec = &spec;
    plan.preserve_fds = int(preserve_fds);
    plan.last_capability = last_capability();
    sys::check_lsm_available(spec);
    if (spec.process->capabilities)
        for (int cap : spec.process->capabilities->ambient)
            if (std::find(spec.process->capabilities->inheritable.begin(), spec.process->capabilities->inheritable.end(), cap) ==
                spec.process->capabilities->inheritable.end())
                log::debug(".process.capabilities.ambient: " + std::to_string(cap) +
                           " is not inheritable, so the kernel cannot raise it; skipped, as runc does");
    plan.env = process_environment(spec);
    if (spec.linux.seccomp) plan.seccomp = compile_seccomp_logged(*spec.linux.seccomp);
    plan.seccomp_load = seccomp_load_point(plan);
    plan.memory_policy = plan_memory_policy(spec);
}

bool same_namespace(const std::string& a, const std::string& b) {
    struct stat sa{}, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

// linux.netDevices: each host interface must exist now; the runtime moves them after the clone
// (launch/net_devices.cpp) into the network namespace init gets at clone, or the one it joins.
void plan_net_devices(const spec::Spec& spec, LaunchPlan& launch) {
    if (spec.linux.net_devices.empty()) return;
    for (auto& [host_name, device] : spec.linux.net_devices) {
        std::string path = ".linux.netDevices." + host_name;
        if (::if_nametoindex(host_name.c_str()) == 0)
            throw Error(JsonPath{path}, "the host has no network interface " + spec::json_quoted(host_name), errno == ENODEV ? 0 : errno,
                        "create it first, or fix the name (`ip link` lists the host's interfaces)");
        launch.net_devices.push_back({host_name, device.name.empty() ? host_name : device.name, path});
    }
    InitPlan& plan = launch.init;
    for (const NamespaceJoin& join : plan.joins)
        if (join.type == CLONE_NEWNET) launch.net_namespace = join.fd.get();
    if (launch.net_namespace >= 0) {
        if (same_namespace("/proc/self/fd/" + std::to_string(launch.net_namespace), "/proc/self/ns/net"))
            throw Error(JsonPath{".linux.netDevices"}, "the network namespace joined by path is the runtime's own: the interfaces would not move",
                        0, "give the container a network namespace of its own");
        return;
    }
    // A new one: made by the clone rather than by init's unshare, so that it exists as soon as
    // the runtime has a pid to find it by. It belongs to the same user namespace either way,
    // unless init joins a user namespace by path first.
    const spec::Namespace* user = spec.linux.find_namespace(NamespaceKind::user);
    if (user && !user->path.empty())
        throw Error(JsonPath{".linux.netDevices"}, "network interfaces cannot be moved into a new network namespace of a user namespace joined by path",
                    0, "join the network namespace by path too, or give the container a new user namespace");
    plan.unshare_flags &= ~CLONE_NEWNET;
    launch.clone_flags |= CLONE_NEWNET;
}

}  // namespace

JoinedNamespaces open_namespace_paths(const spec::Spec& spec) {
    JoinedNamespaces joined;
    for (size_t i = 0; i < spec.linux.namespaces.size(); ++i) {
        const spec::Namespace& ns = spec.linux.namespaces[i];
        if (ns.path.empty()) continue;
        int flag = spec::namespace_clone_flag(ns.kind);
        std::string field = ".linux.namespaces[" + std::to_string(i) + "].path";
        UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            throw Error(JsonPath{field}, "open " + ns.path, errno,
                        "give a namespace file such as /proc/<pid>/ns/<type> or a bind-mounted one, or drop .path to create a new namespace");
        int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
        if (type != flag)
            throw Error(JsonPath{field}, ns.path + " is not a " + spec::namespace_name(ns.kind) + " namespace");
        if (ns.kind == NamespaceKind::pid) joined.pid = std::move(fd);
        else if (ns.kind == NamespaceKind::user) joined.joins.insert(joined.joins.begin(), {std::move(fd), flag});
        else joined.joins.push_back({std::move(fd), flag});
    }
    return joined;
}

LaunchPlan plan_create(const spec::Spec& spec, const runtime::CreateOptions& options, const CreateTarget& target) {
    // In a mount namespace joined by path, init resolves the root there, as runc does: it need
    // not exist in this one (init names .root.path when it is missing there).
    const spec::Namespace* mount_ns = spec.linux.find_namespace(NamespaceKind::mount);
    struct stat st{};
    if (!(mount_ns && !mount_ns->path.empty())) {
        if (::stat(spec.root.path.c_str(), &st) != 0)
            throw Error(".root.path: " + spec.root.path, errno,
                        errno == ENOENT ? "unpack the container's files there, or fix .root.path (a relative path is resolved against the bundle)" : "");
        if (!S_ISDIR(st.st_mode)) throw Error(".root.path: " + spec.root.path + " is not a directory");
    }

    LaunchPlan launch;
    InitPlan& plan = launch.init;
    plan_process(spec, options.preserve_fds, plan);
    plan.id = target.id;
    plan.bundle = target.bundle;
    plan.mounts = plan_mounts(spec, target.bundle);
    if (!spec.linux.mount_label.empty()) {
        if (sys::selinux_enabled()) plan.mount_label = spec.linux.mount_label;
        else log::debug(".linux.mountLabel: SELinux is not enabled on this host; ignored, as crun does");
    }
    plan.rootfs_propagation = MS_SLAVE;
    if (!spec.linux.rootfs_propagation.empty())
        parse_propagation(spec.linux.rootfs_propagation, plan.rootfs_propagation, plan.rootfs_propagation_recursive);
    plan.no_pivot = options.no_pivot;
    plan.shares_mount_ns = mount_ns == nullptr;
    plan.new_keyring = !options.no_new_keyring;
    if (plan.new_keyring && !spec.process->selinux_label.empty() && sys::selinux_enabled()) plan.keyring_label = spec.process->selinux_label;
    plan.runtime_hooks = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty();
    plan.no_process = !target.has_process;
    // execCPUAffinity is not for init (runtime-spec config.md; runc and crun leave it out
    // too); the affinity of whoever started the runtime is not either.
    plan.cpu_affinity = sys::every_cpu();
    if (spec.linux.intel_rdt) launch.resctrl = resctrl::plan_group(*spec.linux.intel_rdt, target.id, resctrl::find_root());

    for (const spec::Namespace& ns : spec.linux.namespaces) {
        if (!ns.path.empty()) continue;
        int flag = spec::namespace_clone_flag(ns.kind);
        // Init is cloned straight into its user and pid namespaces; it unshares the rest
        // itself, after the runtime has written the maps and joined the cgroups.
        if (ns.kind == NamespaceKind::user || ns.kind == NamespaceKind::pid) launch.clone_flags |= flag;
        else plan.unshare_flags |= flag;
        plan.new_user_ns |= ns.kind == NamespaceKind::user;
        plan.new_net_ns |= ns.kind == NamespaceKind::network;
        plan.new_time_ns |= ns.kind == NamespaceKind::time;
        plan.new_cgroup_ns |= ns.kind == NamespaceKind::cgroup;
    }
    JoinedNamespaces joined = open_namespace_paths(spec);
    plan.joins = std::move(joined.joins);
    launch.pid_namespace = std::move(joined.pid);
    // In a user namespace, whether the config's or the runtime's own: no mknod, no cgroup v1 mounts.
    plan.in_user_ns = spec.linux.find_namespace(NamespaceKind::user) != nullptr || target.runtime_in_user_ns;
    // Namespaces created by clone belong to the runtime's user namespace; with a user namespace
    // joined by path, init must create its pid namespace itself, after joining.
    const spec::Namespace* user = spec.linux.find_namespace(NamespaceKind::user);
    if (user && !user->path.empty() && (launch.clone_flags & CLONE_NEWPID)) {
        launch.clone_flags &= ~CLONE_NEWPID;
        plan.unshare_flags |= CLONE_NEWPID;
        plan.fork_after_joining = true;
    }

    plan_net_devices(spec, launch);

    // Socket activation: the fds systemd passed on (LISTEN_FDS) go to the container, whose
    // init will be pid 1.
    if (const char* listen_fds = ::getenv("LISTEN_FDS"); listen_fds && atoi(listen_fds) > 0) {
        plan.preserve_fds += atoi(listen_fds);
        std::erase_if(plan.env, [](const std::string& e) { return e.rfind("LISTEN_FDS=", 0) == 0 || e.rfind("LISTEN_PID=", 0) == 0; });
        plan.env.push_back(std::string("LISTEN_FDS=") + std::to_string(atoi(listen_fds)));
        plan.env.push_back("LISTEN_PID=1");
    }

    // A seccomp filter loaded before READY (without noNewPrivileges) would also judge the
    // recvmsg/sendmsg of START and GOING: such a container keeps exec.fifo, whose open and write
    // are what runc's init needs under the filter too.
    plan.start_over_socket = target.start_over_socket && plan.seccomp_load != SeccompLoad::before_user_change;

    CgroupPlan& cgroups = plan.cgroups;
    cgroups.layout = target.layout;
    cgroups.dirs = target.cgroup_dirs;
    if (!cgroups.dirs.empty()) {
        for (size_t i = 0; i < cgroups.layout.hierarchies.size() && i < cgroups.dirs.size(); ++i)
            if (!cgroups.layout.hierarchies[i].unified) cgroups.v1_tasks_paths.push_back(cgroups.dirs[i] + "/tasks");
        cgroups.made_after_clone = true;
        // On v1 (and no user namespace), the runtime makes the /sys/fs/cgroup mounts of the
        // config's first "cgroup" mount while init mounts the rest.
        if (!plan.in_user_ns && cgroups.layout.mode != cgroups::Mode::v2)
            for (size_t i = 0; i < plan.mounts.size(); ++i)
                if (plan.mounts[i].config->type == "cgroup") {
                    cgroups.mount_from_runtime = i;
                    break;
                }
    }
    return launch;
}

LaunchPlan plan_exec(const spec::Spec& spec, const state::Record& record, const runtime::ExecOptions& options) {
    LaunchPlan launch;
    InitPlan& plan = launch.init;
    plan_process(spec, options.preserve_fds, plan);
    plan.id = record.id;
    plan.bundle = record.bundle;
    // execCPUAffinity (runc 1.3): `initial` is the runtime's own affinity while it clones the
    // process, so its whole setup runs there; `final` is set once it is in the container's
    // cgroups. With neither, every CPU of the cpuset, as for init; with `initial` alone the
    // process keeps it.
    const auto& affinity = spec.process->exec_cpu_affinity;
    if (affinity) launch.cpu_affinity_initial = sys::bit_mask(affinity->initial);
    if (affinity && !affinity->final_cpus.empty()) plan.cpu_affinity = sys::bit_mask(affinity->final_cpus);
    else if (!affinity || affinity->initial.empty()) plan.cpu_affinity = sys::every_cpu();

    // Every namespace of the container's init that differs from the runtime's own.
    std::string init_ns = "/proc/" + std::to_string(record.pid) + "/ns/";
    // The user namespace comes first so that the others, which it owns, can be joined; the
    // mount namespace comes last, since joining it moves the root and working directory. The
    // pid namespace is apart: it only applies to children.
    for (spec::NamespaceKind kind : spec::namespace_join_order()) {
        if (kind == NamespaceKind::pid) continue;
        const char* name = spec::namespace_proc_name(kind);
        int flag = spec::namespace_clone_flag(kind);
        if (same_namespace(init_ns + name, std::string("/proc/self/ns/") + name)) continue;
        UniqueFd fd(::open((init_ns + name).c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw Error("open " + init_ns + name, errno);
        plan.in_user_ns |= kind == NamespaceKind::user;
        plan.joins.push_back({std::move(fd), flag});
    }
    if (!same_namespace(init_ns + "pid", "/proc/self/ns/pid")) {
        UniqueFd pid_ns(::open((init_ns + "pid").c_str(), O_RDONLY | O_CLOEXEC));
        if (!pid_ns) throw Error("open " + init_ns + "pid", errno);
        if (::geteuid() == 0) {
            launch.pid_namespace = std::move(pid_ns);
        } else {
            // An unprivileged runtime cannot join it here; the child joins it right after the
            // user namespace that owns it, then forks into it.
            auto after_user = plan.in_user_ns ? plan.joins.begin() + 1 : plan.joins.begin();
            plan.joins.insert(after_user, {std::move(pid_ns), CLONE_NEWPID});
            plan.fork_after_joining = true;
        }
    }
    // A runtime that is itself uid 0 of a user namespace (rootless podman's) shares the
    // container's: setgroups may be denied there too.
    if (sys::in_user_namespace()) plan.in_user_ns = true;
    // Without a mount namespace of its own (runtime/host_root.hpp) the container is told apart
    // from the host by its root alone.
    if (same_namespace(init_ns + "mnt", "/proc/self/ns/mnt")) {
        plan.exec_root.reset(::open((std::string("/proc/") + std::to_string(record.pid) + "/root").c_str(),
                                    O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!plan.exec_root) throw Error("open the root of the container's init, /proc/" + std::to_string(record.pid) + "/root", errno);
    }
    plan.cgroups.dirs = record.cgroup_dirs;
    return launch;
}

}  // namespace crunlite::planning
