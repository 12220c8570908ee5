/* The static build's ELF entry point: runs before glibc initialises anything (its CPU feature
 * probing alone is some 60 trapping cpuid instructions in a VM, about 0.2 ms) and, for a
 * command that puts a process of ours into a container (create, run, exec), re-executes the
 * binary from a detached read-only bind mount of itself right away (CVE-2019-5736, see
 * sealed_exe.hpp), so that the first image never pays glibc's start-up. Anything unusual
 * (already sealed, no open_tree, not root) goes on to glibc's _start unchanged, where the
 * constructor in sealed_exe.cpp does the full job with its fallbacks.
 *
 * Nothing here may touch libc: no TLS (so no errno and no stack protector), no IRELATIVE
 * functions (memcpy, strlen...) before glibc has resolved them. System calls are raw. */
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "startup/sealed_exe.hpp"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef ST_RDONLY
#define ST_RDONLY 1
#endif

namespace {

long raw_syscall(long number, long a, long b, long c, long d, long e) {
    long result;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
    return result;
}

int read_only_file(int fd) {
    struct statfs fs;
    return raw_syscall(SYS_fstatfs, fd, reinterpret_cast<long>(&fs), 0, 0, 0) == 0 && (fs.f_flags & ST_RDONLY);
}

}  // namespace

/* Returns when the binary is to run as it is; otherwise execs and does not return. */
extern "C" void crunlite_early_reexec(long* stack) {
    long argc = stack[0];
    char** argv = reinterpret_cast<char**>(stack + 1);
    char** envp = argv + argc + 1;
    int wanted = 0;
    for (long i = 1; i < argc; ++i)
        wanted |= crunlite::startup::is_sealed_command(argv[i]);
    if (!wanted) return;
    int exe = int(raw_syscall(SYS_open, reinterpret_cast<long>("/proc/self/exe"), O_RDONLY | O_CLOEXEC, 0, 0, 0));
    if (exe < 0) return;
    long seals = raw_syscall(SYS_fcntl, exe, F_GET_SEALS, 0, 0, 0);
    int sealed = read_only_file(exe) || (seals > 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SEAL));
    raw_syscall(SYS_close, exe, 0, 0, 0, 0);
    if (sealed) return;  /* already running from a copy that cannot be written */
    int tree = int(raw_syscall(SYS_open_tree, AT_FDCWD, reinterpret_cast<long>("/proc/self/exe"), OPEN_TREE_CLONE | O_CLOEXEC, 0, 0));
    if (tree < 0) return;
    struct mount_attr attr;
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    attr.attr_clr = 0;
    attr.propagation = 0;
    attr.userns_fd = 0;
    if (raw_syscall(SYS_mount_setattr, tree, reinterpret_cast<long>(""), AT_EMPTY_PATH, reinterpret_cast<long>(&attr), sizeof attr) == 0 && read_only_file(tree))
        raw_syscall(SYS_execveat, tree, reinterpret_cast<long>(""), reinterpret_cast<long>(argv), reinterpret_cast<long>(envp), AT_EMPTY_PATH);
    raw_syscall(SYS_close, tree, 0, 0, 0, 0);
}

/* The kernel enters here with the stack holding argc, argv, envp and auxv, and %rdx holding
 * the function to register with atexit (0 for a static program); both must reach _start. */
__asm__(
    ".text\n"
    ".globl crunlite_entry\n"
    ".type crunlite_entry, @function\n"
    "crunlite_entry:\n"
    "    endbr64\n"
    "    mov %rsp, %r12\n"
    "    mov %rdx, %r13\n"
    "    mov %rsp, %rdi\n"
    "    and $-16, %rsp\n"
    "    call crunlite_early_reexec\n"
    "    mov %r12, %rsp\n"
    "    mov %r13, %rdx\n"
    "    jmp _start\n"
    ".size crunlite_entry, .-crunlite_entry\n");
