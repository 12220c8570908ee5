#include "sys/lsm.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "crunlite/error.hpp"

namespace crunlite::sys {

bool apparmor_enabled() {
    char enabled = 'N';
    if (int fd = ::open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC); fd >= 0) {
        if (::read(fd, &enabled, 1) != 1) enabled = 'N';
        ::close(fd);
    }
    return enabled == 'Y';
}

bool selinux_enabled() { return ::access("/sys/fs/selinux/enforce", F_OK) == 0; }

void check_lsm_available(const spec::Spec& spec) {
    if (!spec.process->apparmor_profile.empty() && !apparmor_enabled())
        throw Error(".process.apparmorProfile: AppArmor is not enabled on this host (hint: remove the field, or run on a host "
                    "with AppArmor)");
    // linux.mountLabel without SELinux is ignored, as crun does (the planner leaves it out).
    if (!spec.process->selinux_label.empty() && !selinux_enabled())
        throw Error(".process.selinuxLabel: SELinux is not enabled on this host (hint: remove the field, or run on a host with SELinux)");
}

}  // namespace crunlite::sys
