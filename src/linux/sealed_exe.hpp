// CVE-2019-5736: a process of ours that enters a container (init, an exec'd process) can be
// made to execve /proc/self/exe, i.e. this binary, as the container's program; another
// container process then reopens /proc/<pid>/exe for writing and overwrites the host's
// runtime. Commands that enter containers therefore first re-execute themselves from a copy
// that cannot be written: a read-only overlayfs over the binary's directory, or a sealed memfd.
#pragma once

namespace crunlite::linux_setup {

// Returns when already running sealed (or when the binary is not writable by this unprivileged
// user anyway); otherwise re-executes with the same argv and environment, or throws.
void ensure_sealed_executable(char** argv);

}  // namespace crunlite::linux_setup
