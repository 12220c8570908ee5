#include "spawn.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "init_steps.hpp"
#include "mount_api.hpp"
#include "sync.hpp"

namespace crunlite::linux_setup {
namespace {

std::string describe_exit(int status);

void write_map(pid_t pid, const char* file, const std::vector<spec::IdMapping>& mappings, const char* field) {
    std::string text;
    for (auto& m : mappings)
        text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != ssize_t(text.size()))
        throw Error(std::string(field) + ": write " + path, errno);
}

// newuidmap/newgidmap check /etc/subuid and /etc/subgid and write the maps with their privilege.
void run_id_map_helper(const char* helper, pid_t pid, const std::vector<spec::IdMapping>& mappings, const char* field) {
    std::vector<std::string> args = {helper, std::to_string(pid)};
    for (auto& m : mappings) {
        args.push_back(std::to_string(m.container_id));
        args.push_back(std::to_string(m.host_id));
        args.push_back(std::to_string(m.size));
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t child = ::fork();
    if (child < 0) throw Error(std::string(field) + ": fork " + helper, errno);
    if (child == 0) {
        ::execvp(helper, argv.data());
        _exit(127);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        throw Error(std::string(field) + ": several ranges or other ids need " + helper + " (Debian package uidmap), which is not installed");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error(std::string(field) + ": " + helper + " refused the mapping (" + describe_exit(status) +
                    "; check /etc/subuid and /etc/subgid)");
}

std::string describe_exit(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
    return "stopped";
}

}  // namespace

InitProcess::~InitProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
}

void InitProcess::adopt(pid_t child) {
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
    pid_ = child;
}

InitProcess clone_init(InitPlan& plan, int clone_flags, void (*body)(const InitPlan&)) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) throw Error("socketpair", errno);
    UniqueFd parent_end(pair[0]), child_end(pair[1]);
    plan.sync_fd = child_end.get();

    clone_args args{};
    args.flags = uint64_t(clone_flags);
    args.exit_signal = SIGCHLD;
    if (plan.into_cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = uint64_t(plan.into_cgroup_fd);
    }
    pid_t pid = pid_t(::syscall(SYS_clone3, &args, sizeof args));
    if (pid < 0 && plan.into_cgroup_fd >= 0) {
        // Older kernels, or a cgroup2 directory that cannot take processes directly: the
        // caller writes cgroup.procs instead (and reports that error if there is one).
        plan.into_cgroup_fd = -1;
        args.flags = uint64_t(clone_flags);
        args.cgroup = 0;
        pid = pid_t(::syscall(SYS_clone3, &args, sizeof args));
    }
    if (pid < 0 && errno == ENOSYS) pid = pid_t(::syscall(SYS_clone, clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
    if (pid < 0) throw Error("clone the container's init process", errno);
    if (pid == 0) {
        parent_end.reset();
        run_in_child(plan, body);
    }
    return InitProcess(pid, std::move(parent_end));
}

void write_id_mappings(pid_t pid, const spec::Linux& linux, bool rootless) {
    auto own_id_only = [](const std::vector<spec::IdMapping>& m, unsigned id) {
        return m.size() == 1 && m[0].size == 1 && m[0].host_id == id;
    };
    if (!rootless || (own_id_only(linux.uid_mappings, ::geteuid()) && own_id_only(linux.gid_mappings, ::getegid()))) {
        if (rootless) {
            // Without CAP_SETGID in the parent namespace, gid_map is only writable once setgroups is off.
            std::string path = "/proc/" + std::to_string(pid) + "/setgroups";
            UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
            if (!fd || ::write(fd.get(), "deny", 4) != 4) throw Error(".linux.gidMappings: write deny to " + path, errno);
        }
        write_map(pid, "uid_map", linux.uid_mappings, ".linux.uidMappings");
        write_map(pid, "gid_map", linux.gid_mappings, ".linux.gidMappings");
        return;
    }
    run_id_map_helper("newuidmap", pid, linux.uid_mappings, ".linux.uidMappings");
    run_id_map_helper("newgidmap", pid, linux.gid_mappings, ".linux.gidMappings");
}

void send_go(InitProcess& init) {
    // If init died before it could be told to go on, complete_handshake's wait says how.
    send_sync(init.sync_fd(), SyncType::go);
}

namespace {

// A send init cannot receive because it died is left to complete_handshake, which reports how;
// any other failure would leave init waiting for good.
void send_or_throw(InitProcess& init, SyncType type, const std::vector<int>& fds, const char* what) {
    if (send_sync_fds(init.sync_fd(), type, fds.data(), fds.size()) || errno == EPIPE || errno == ECONNRESET) return;
    throw Error(std::string("send ") + what + " to the container's init", errno);
}

}  // namespace

void send_cgroups_ready(InitProcess& init, const std::vector<UniqueFd>& tasks_fds) {
    std::vector<int> fds;
    for (auto& fd : tasks_fds) fds.push_back(fd.get());
    send_or_throw(init, SyncType::cgroups, fds, "its cgroups' tasks files");
}

void send_cgroup_mounts(InitProcess& init, const std::vector<std::string>& cgroup_dirs, const PlannedMount& m) {
    // Bind mounts of the container's own directories: inside its cgroup namespace they are
    // what a fresh cgroup mount there would be (the same superblock, rooted at the namespace's
    // root, shown as "/" in mountinfo), without the kernel's walk of the whole hierarchy that
    // a v1 cgroup mount costs. Private, so that nothing mounted below them reaches the host.
    std::vector<UniqueFd> mounts;
    for (auto& dir : cgroup_dirs) mounts.push_back(private_bind(dir, mount_attributes(m), m.json_path));
    std::vector<int> fds;
    for (auto& fd : mounts) fds.push_back(fd.get());
    send_or_throw(init, SyncType::cgroup_mounts, fds, "its cgroup mounts");
}

void complete_handshake(InitProcess& init, const std::function<void()>& runtime_hooks, UniqueFd* console,
                        const std::function<void(UniqueFd)>& seccomp_listener) {
    SyncMessage message;
    int passed_fd = -1;
    while (receive_sync(init.sync_fd(), message, &passed_fd)) {
        if (message.type == SyncType::console) {
            UniqueFd master(passed_fd);
            passed_fd = -1;
            if (console) *console = std::move(master);
            continue;
        }
        if (message.type == SyncType::seccomp) {
            UniqueFd listener(passed_fd);
            passed_fd = -1;
            if (seccomp_listener) seccomp_listener(std::move(listener));
            send_sync(init.sync_fd(), SyncType::done);
            continue;
        }
        if (message.type == SyncType::pid) {
            init.adopt(message.err);
            continue;
        }
        if (message.type == SyncType::ready) {
            if (message.text[0]) log::debug(std::string("init phases: ") + message.text);
            return;
        }
        if (message.type == SyncType::error) throw Error(message.text);
        if (message.type != SyncType::hooks) break;
        runtime_hooks();
        send_sync(init.sync_fd(), SyncType::done);
    }
    int status = 0;
    pid_t pid = init.release();
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    throw Error("container init " + describe_exit(status) + " before it was set up");
}

}  // namespace crunlite::linux_setup
