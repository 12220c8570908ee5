// A process joining a running container (`exec`): it enters the container's namespaces,
// takes on the process settings, and execs. The parent already placed it in the
// container's cgroups and its pid namespace.
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crunlite/error.hpp"
#include "init_steps.hpp"
#include "sync.hpp"

namespace crunlite::linux_setup {

void run_exec_init(const InitPlan& plan) {
    // Processes already in the container must not ptrace or open /proc/<pid> of this one.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) throw Error("prctl PR_SET_DUMPABLE", errno);
    SyncMessage message;
    if (!receive_sync(plan.sync_fd, message) || message.type != SyncType::go) _exit(1);
    enter_namespaces(plan);
    continue_in_pid_namespace(plan);
    const spec::Process& process = *plan.spec->process;
    if (process.terminal) {
        UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        Pty pty = open_container_pty(root.get(), process);
        hand_over_terminal(plan, pty);
    }
    apply_rlimits(process);
    change_directory(process);
    apply_process_attributes(plan);
    close_fds_at_exec(plan);
    load_seccomp_early(plan, false);
    become_user(plan);
    load_seccomp_early(plan, true);
    std::string executable = find_executable(process, plan.env);
    if (::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) != 0) throw Error("prctl PR_SET_PDEATHSIG", errno);
    if (!send_sync(plan.sync_fd, SyncType::ready)) _exit(1);
    ::close(plan.sync_fd);
    exec_process(plan, executable, -1);
}

}  // namespace crunlite::linux_setup
