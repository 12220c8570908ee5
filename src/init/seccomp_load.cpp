// Loading the program the runtime compiled (plan/seccomp_program.hpp): one system call in init.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crunlite/error.hpp"
#include "init/init_steps.hpp"

namespace crunlite::init {

int load_seccomp(const SeccompProgram& program) {
    sock_fprog prog{static_cast<unsigned short>(program.instructions.size()),
                    const_cast<sock_filter*>(program.instructions.data())};
    long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &prog);
    if (rc < 0) throw Error("load the seccomp filter (.linux.seccomp)", errno);
    return program.notify ? int(rc) : -1;
}

}  // namespace crunlite::init
