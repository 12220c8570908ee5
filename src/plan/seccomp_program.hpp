// linux.seccomp -> a BPF program, compiled by the runtime with libseccomp before clone, so
// that init only has one system call to make to load it.
#pragma once
#include <linux/filter.h>

#include <string>
#include <vector>

#include "crunlite/spec.hpp"

namespace crunlite::planning {

struct SeccompProgram {
    std::vector<sock_filter> instructions;
    unsigned flags = 0;      // SECCOMP_FILTER_FLAG_*
    bool notify = false;     // has SCMP_ACT_NOTIFY rules: loading returns a listener fd
    std::vector<std::string> skipped;  // syscall names this libseccomp does not know
};

// How a syscall newer than the profile is answered: runc's rule, kept. Every syscall the
// native architecture knows whose number is above the highest one the profile names, and
// that the profile does not name, fails with ENOSYS instead of the default action, so that
// a libc probing a new call (clone3, faccessat2, openat2...) falls back to the old one.
SeccompProgram compile_seccomp(const spec::Seccomp& seccomp);

}  // namespace crunlite::planning
