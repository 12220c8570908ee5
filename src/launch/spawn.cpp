#include "launch/spawn.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "sys/cpu_affinity.hpp"
#include "sys/mount_api.hpp"
#include "cgroups/cgroup_file.hpp"
#include "init/init_entry.hpp"
#include "sys/protocol.hpp"
#include "util/subprocess.hpp"

namespace crunlite::launch {

InitProcess::~InitProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
}

namespace {

// Joining a pid namespace only applies to children: the runtime joins it for the one clone
// it makes, and goes back afterwards.
class PidNamespaceForChildren {
public:
    explicit PidNamespaceForChildren(int target_fd) {
        if (target_fd < 0) return;
        original_.reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
        if (!original_) throw Error("open /proc/self/ns/pid", errno);
        if (::setns(target_fd, CLONE_NEWPID) != 0) throw Error("setns into the container's pid namespace", errno);
    }
    ~PidNamespaceForChildren() {
        if (original_) ::setns(original_.get(), CLONE_NEWPID);
    }

private:
    UniqueFd original_;
};

}  // namespace

namespace {

InitProcess clone_init(const LaunchPlan& plan, InitHandoff& handoff, init::InitBody body) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) throw Error("socketpair", errno);
    UniqueFd runtime_end(pair[0]), init_end(pair[1]);
    sys::ExchangeShape shape = planning::exchange_shape(plan.init);
    Channel runtime_channel(std::move(runtime_end), sys::Side::runtime, shape);
    Channel init_channel(std::move(init_end), sys::Side::init, shape);

    PidNamespaceForChildren pid_namespace(plan.pid_namespace.get());
    // exec's execCPUAffinity.initial: the child is born with it.
    std::optional<sys::ScopedCpuAffinity> initial_affinity;
    if (!plan.cpu_affinity_initial.empty()) initial_affinity.emplace(plan.cpu_affinity_initial, ".process.execCPUAffinity.initial");
    int into_cgroup = handoff.cgroup_entry.unified_dir.get();
    clone_args args{};
    args.flags = uint64_t(plan.clone_flags);
    args.exit_signal = SIGCHLD;
    if (into_cgroup >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = uint64_t(into_cgroup);
    }
    pid_t pid = pid_t(::syscall(SYS_clone3, &args, sizeof args));
    bool cloned_into_cgroup = into_cgroup >= 0;
    if (pid < 0 && cloned_into_cgroup) {
        // Older kernels, or a cgroup2 directory that cannot take processes directly:
        // enter_cgroup2 writes cgroup.procs instead (and reports that error if there is one).
        cloned_into_cgroup = false;
        args.flags = uint64_t(plan.clone_flags);
        args.cgroup = 0;
        pid = pid_t(::syscall(SYS_clone3, &args, sizeof args));
    }
    if (pid < 0 && errno == ENOSYS) pid = pid_t(::syscall(SYS_clone, plan.clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
    if (pid < 0) throw Error("clone the container's init process", errno);
    if (pid == 0) {
        runtime_channel.release_socket().reset();
        init::run_in_child(plan.init, handoff, init::InitChannel(std::move(init_channel)), body);
    }
    return InitProcess(pid, std::move(runtime_channel), cloned_into_cgroup);
}

}  // namespace

InitProcess clone_container_init(const LaunchPlan& plan, InitHandoff& handoff) {
    return clone_init(plan, handoff, init::run_container_init);
}

InitProcess clone_process_joining(const LaunchPlan& plan, InitHandoff& handoff) {
    return clone_init(plan, handoff, init::run_exec_init);
}

void enter_cgroup2(const InitProcess& init, const cgroups::CgroupEntry& entry) {
    if (entry.unified_dir && !init.cloned_into_cgroup())
        cgroups::write_cgroup_file(entry.unified_path + "/cgroup.procs", std::to_string(init.pid()));
}


namespace {

std::vector<int> raw_fds(std::span<const UniqueFd> fds) {
    std::vector<int> raw;
    for (auto& fd : fds) raw.push_back(fd.get());
    return raw;
}

}  // namespace

// A message init cannot receive because it died is left to wait_ready, which reports how; any
// other failure would leave init waiting for good.
void InitProcess::send(Message message, std::span<const int> fds, const char* what) {
    if (!channel_.send(message, fds) && errno != EPIPE && errno != ECONNRESET)
        throw Error(std::string("send ") + what + " to the container's init", errno);
}

void InitProcess::go() { send(Message::go, {}, "GO"); }

void InitProcess::send_cgroup_mounts(std::span<const UniqueFd> mounts) {
    send(Message::cgroup_mounts, raw_fds(mounts), "its cgroup mounts");
}

void InitProcess::send_cgroups(std::span<const UniqueFd> v1_tasks) {
    send(Message::cgroups, raw_fds(v1_tasks), "its cgroups' tasks files");
}

std::vector<UniqueFd> make_cgroup_mounts(const std::vector<std::string>& cgroup_dirs, const PlannedMount& m) {
    // Bind mounts of the container's own directories: inside its cgroup namespace they are
    // what a fresh cgroup mount there would be (the same superblock, rooted at the namespace's
    // root, shown as "/" in mountinfo), without the kernel's walk of the whole hierarchy that
    // a v1 cgroup mount costs. Private, so that nothing mounted below them reaches the host.
    std::vector<UniqueFd> mounts;
    for (auto& dir : cgroup_dirs) mounts.push_back(sys::private_bind(dir, mount_attributes(m), m.json_path));
    return mounts;
}

InitProcess::Ready InitProcess::wait_ready(const Answers& answers) {
    Ready ready;
    for (;;) {
        sys::Received received = channel_.receive();
        switch (received.message) {
            case Message::pid:
                // The child of a fork into the pid namespace speaks from now on; reap the first.
                while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
                pid_ = received.pid;
                break;
            case Message::hooks:
                answers.run_runtime_hooks();
                send(Message::hooks_done, {}, "HOOKS_DONE");
                break;
            case Message::console:
                if (!received.fds.empty()) ready.console = std::move(received.fds.front());
                break;
            case Message::seccomp_listener:
                if (!received.fds.empty() && answers.take_seccomp_listener) answers.take_seccomp_listener(std::move(received.fds.front()));
                send(Message::seccomp_done, {}, "SECCOMP_DONE");
                break;
            case Message::ready:
                ready.timeline = received.text;
                return ready;
            case Message::error:
                throw Error::formatted(received.text, received.error_number);
            default:
                report_death();
        }
    }
}

void InitProcess::report_death() {
    int status = 0;
    pid_t pid = release();
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    throw Error("container init " + subprocess::describe_exit(status) + " before it was set up");
}

bool start_over_socket(Channel& channel, bool wait_for_exec) {
    if (!channel.send(Message::start)) return false;
    if (channel.receive().message != Message::going) return false;
    if (wait_for_exec) {
        // Init's end of the socket is CLOEXEC: it closes when the user program's execve succeeds.
        // An ERROR instead is that execve failing.
        sys::Received after = channel.receive();
        if (after.message == Message::error) throw Error(after.text, after.error_number);
    }
    return true;
}

}  // namespace crunlite::launch
