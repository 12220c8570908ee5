// A user namespace holding given mappings, as a file descriptor: what mount_setattr needs
// to idmap a mount. A helper child enters the namespace only long enough for the maps to be
// written and its /proc/<pid>/ns/user opened.
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crunlite/error.hpp"
#include "plan/idmap_userns.hpp"
#include "sys/id_mappings.hpp"

namespace crunlite::planning {

UniqueFd make_user_namespace(const std::vector<spec::IdMapping>& uid_mappings, const std::vector<spec::IdMapping>& gid_mappings,
                             const std::string& what) {
    int hold[2];
    if (::pipe2(hold, O_CLOEXEC) != 0) throw Error(what + ": pipe", errno);
    UniqueFd hold_read(hold[0]), hold_write(hold[1]);
    clone_args args{};
    args.flags = CLONE_NEWUSER;
    args.exit_signal = SIGCHLD;
    pid_t pid = pid_t(::syscall(SYS_clone3, &args, sizeof args));
    if (pid < 0) throw Error(what + ": clone a user namespace for the mount", errno);
    if (pid == 0) {
        hold_write.reset();
        char byte;
        while (::read(hold_read.get(), &byte, 1) < 0 && errno == EINTR) {}  // until the parent is done
        _exit(0);
    }
    hold_read.reset();
    auto reap = [&] {
        hold_write.reset();
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
    };
    try {
        spec::Linux maps;
        maps.uid_mappings = uid_mappings;
        maps.gid_mappings = gid_mappings;
        sys::write_id_mappings(pid, maps, false);
        UniqueFd ns(::open(("/proc/" + std::to_string(pid) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns) throw Error(what + ": open the mount's user namespace", errno);
        reap();
        return ns;
    } catch (...) {
        reap();
        throw;
    }
}

}  // namespace crunlite::planning
