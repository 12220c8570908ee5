// CVE-2019-5736: a process of ours that enters a container (init, an exec'd process) can be
// made to execve /proc/self/exe, i.e. this binary, as the container's program; another
// container process then reopens /proc/<pid>/exe for writing and overwrites the host's
// runtime. Commands that enter containers therefore first re-execute themselves from a copy
// that cannot be written: a detached read-only bind mount of the binary itself, else a sealed
// memfd holding the loaded part of the binary, else (where memfds may not be executed) a
// read-only overlayfs over the binary's directory. The static build makes the bind mount even
// earlier, at its ELF entry point (early_entry.cpp).
// A binary that already sits on a read-only mount (a read-only /usr, or a read-only bind mount
// of the file over itself) is safe as it is and costs nothing.
#pragma once

namespace crunlite::startup {

// The subcommands that put a process of ours into a container, and so run sealed. The entry
// stub (early_entry.cpp) reads this list before glibc has started, so it must need no library
// and no relocation: fixed-size character arrays rather than pointers to string literals, and
// a comparison written out rather than strcmp.
inline constexpr char kSealedCommands[][8] = {"create", "run", "exec"};

constexpr bool is_sealed_command(const char* word) {
    for (const auto& command : kSealedCommands) {
        const char* a = word;
        const char* b = command;
        while (*a && *a == *b) ++a, ++b;
        if (*a == *b) return true;
    }
    return false;
}
static_assert(is_sealed_command("exec") && !is_sealed_command("execute") && !is_sealed_command("ru"));

// Returns when already running sealed (or when the binary is not writable by this unprivileged
// user anyway); otherwise re-executes with the same argv and environment, or throws.
void ensure_sealed_executable(char** argv);

// The same for argv naming create, run or exec anywhere, run by a constructor before any other
// static initialisation: it never throws, so a failure is reported by ensure_sealed_executable
// once the log is set up.
void try_sealed_executable_early(char** argv);

}  // namespace crunlite::startup
