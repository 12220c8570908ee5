#include "startup/sealed_exe.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char** environ;

namespace crunlite::startup {
namespace {

constexpr const char* kReexecMarker = "_CRUN_LITE_SEALED_EXE";

// Our executable is safe from the container when the file behind /proc/self/exe cannot be
// opened for writing at all: it is on a read-only mount (a container cannot remount a mount of
// the host's namespace), or it is a memfd sealed against writes.
bool running_sealed() {
    UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!exe) return false;
    struct statvfs vfs{};
    if (::fstatvfs(exe.get(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) return true;
    int seals = ::fcntl(exe.get(), F_GET_SEALS);
    return seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SEAL);
}

// Overlayfs before Linux 6.8 has no "lowerdir+": the layers go in one colon-separated
// "lowerdir", where a colon or backslash inside a path must be escaped.
std::string escaped_layer(const std::string& path) {
    std::string out;
    for (char c : path) {
        if (c == ':' || c == '\\' || c == ',') out += '\\';
        out += c;
    }
    return out;
}

// A read-only overlayfs whose only content is the directory holding our binary (plus an empty
// tmpfs: overlayfs wants two lower layers when it has no upper one). Nothing written through
// it can reach the file, and overlayfs has no way to be made writable without an upper layer.
UniqueFd overlay_copy(const std::string& exe_path) {
    auto slash = exe_path.rfind('/');
    if (slash == std::string::npos) return {};
    std::string dir = slash == 0 ? "/" : exe_path.substr(0, slash), name = exe_path.substr(slash + 1);
    UniqueFd empty_fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (!empty_fs || ::fsconfig(empty_fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) return {};
    UniqueFd empty(::fsmount(empty_fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY));
    if (!empty) return {};
    UniqueFd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
    if (!fs) return {};
    std::string empty_path = "/proc/self/fd/" + std::to_string(empty.get());
    bool created = ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", dir.c_str(), 0) == 0 &&
                   ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", empty_path.c_str(), 0) == 0 &&
                   ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0;
    if (!created) {
        // A kernel before 6.8 takes "lowerdir+" as an unknown option and fails only at create,
        // and takes no detached mount as a layer: the second layer is an empty directory made
        // for the moment (the overlay keeps it alive once created).
        char empty_dir[] = "/tmp/.crun-lite-empty.XXXXXX";
        if (!::mkdtemp(empty_dir)) return {};
        fs.reset(::fsopen("overlay", FSOPEN_CLOEXEC));
        std::string layers = escaped_layer(dir) + ":" + empty_dir;
        created = fs && ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir", layers.c_str(), 0) == 0 &&
                  ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0;
        ::rmdir(empty_dir);
        if (!created) return {};
    }
    UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID));
    if (!mnt) return {};
    UniqueFd file(::openat(mnt.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st{};
    if (!file || ::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
    return mnt;  // the mount's root directory: we exec `name` relative to it
}

// A detached, read-only bind mount of the binary itself: nothing is copied, the page cache is
// shared. Once we have executed from it, the fd closes on exec and the mount leaves its
// anonymous namespace: nobody can reach it any more to make it writable (mount_setattr and
// remount need a mount that is still attached somewhere), and every open for writing through
// /proc/<pid>/exe fails with EROFS. Needs open_tree/mount_setattr (Linux 5.12) and
// CAP_SYS_ADMIN; the copies below are the fallbacks.
UniqueFd readonly_bind() {
    UniqueFd tree(::open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!tree) return {};
    struct mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) return {};
    struct statvfs vfs{};
    if (::fstatvfs(tree.get(), &vfs) != 0 || !(vfs.f_flag & ST_RDONLY)) return {};
    return tree;
}

// The whole binary copied into a memfd, then sealed: slower (the file is copied on every
// command), used only where a bind mount cannot be made.
// The part of our ELF file that exec loads: up to the end of the last segment. Section
// headers and debug information come after it and are not needed to run; 0 when unsure.
off_t loaded_size(int exe_fd) {
    Elf64_Ehdr header{};
    if (::pread(exe_fd, &header, sizeof header, 0) != ssize_t(sizeof header) ||
        std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
        header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 || header.e_phnum > 64)
        return 0;
    Elf64_Phdr segments[64];
    size_t bytes = sizeof(Elf64_Phdr) * header.e_phnum;
    if (::pread(exe_fd, segments, bytes, off_t(header.e_phoff)) != ssize_t(bytes)) return 0;
    off_t end = off_t(header.e_phoff + bytes);
    for (int i = 0; i < header.e_phnum; ++i) end = std::max(end, off_t(segments[i].p_offset + segments[i].p_filesz));
    return end;
}

// Named after the binary, so that /proc/<pid>/exe reads "/memfd:<name> (deleted)".
UniqueFd memfd_copy(const char* name) {
    UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!exe) return {};
    struct stat st{};
    if (::fstat(exe.get(), &st) != 0) return {};
    if (off_t loaded = loaded_size(exe.get()); loaded > 0 && loaded < st.st_size) st.st_size = loaded;
    int fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    UniqueFd copy(fd);
    if (!copy) return {};
    off_t offset = 0;
    while (offset < st.st_size) {
        ssize_t n = ::sendfile(copy.get(), exe.get(), &offset, size_t(st.st_size - offset));
        if (n <= 0) return {};
    }
    if (::fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) return {};
    return copy;
}

}  // namespace

namespace {

// Re-executes from a sealed copy (and so does not return), or returns whether running as we
// are is fine; errno tells why not.
bool run_sealed(char** argv) {
    if (::getenv(kReexecMarker)) {
        ::unsetenv(kReexecMarker);  // never passed on (hooks, the container)
        return true;                // re-executed once already: never loop
    }
    if (running_sealed()) return true;
    char path[4096];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return false;
    path[n] = '\0';
    std::string exe_path(path);
    ::setenv(kReexecMarker, "1", 1);
    // A binary this unprivileged user cannot write, its containers (whose ids all map into
    // this user's) cannot write either.
    if (::geteuid() != 0 && ::faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0 && errno == EACCES) {
        ::unsetenv(kReexecMarker);
        return true;
    }
    // The read-only bind first: about 20 us, where the memfd copies a few MiB (about 1.5 ms here,
    // and under emulation fresh pages mean all our code is translated anew). The overlayfs
    // last: releasing its superblock waits for RCU grace periods, milliseconds each.
    if (UniqueFd bind = readonly_bind()) ::execveat(bind.get(), "", argv, environ, AT_EMPTY_PATH);
    if (UniqueFd copy = memfd_copy(exe_path.substr(exe_path.rfind('/') + 1).c_str())) ::execveat(copy.get(), "", argv, environ, AT_EMPTY_PATH);
    // Where memfds may not be executed (vm.memfd_noexec), a read-only overlayfs.
    if (UniqueFd mnt = overlay_copy(exe_path)) {
        std::string name = exe_path.substr(exe_path.rfind('/') + 1);
        ::execveat(mnt.get(), name.c_str(), argv, environ, 0);
    }
    int err = errno;
    ::unsetenv(kReexecMarker);
    errno = err;
    return false;
}

}  // namespace

void try_sealed_executable_early(char** argv) {
    for (char** arg = argv + 1; *arg; ++arg) {
        // A word that merely looks like one of these (an option's value) costs one needless
        // re-exec, never a missed one: the subcommand itself is always such a word.
        if (is_sealed_command(*arg)) {
            int saved = errno;
            run_sealed(argv);
            errno = saved;
            return;
        }
    }
}

namespace {

// Before the C++ run-time's static initialisation (iostreams, locales) and ours, in a static
// build (a dynamic one has run its libraries' constructors by then): the first image does
// little that the re-executed one would only repeat. glibc hands ELF constructors argc, argv
// and envp. The static build's entry point (early_entry.cpp) usually got here first.
__attribute__((constructor(101))) void reexec_sealed_before_static_init(int, char** argv, char**) {
    if (argv && argv[0]) try_sealed_executable_early(argv);
}

}  // namespace

void ensure_sealed_executable(char** argv) {
    if (run_sealed(argv)) return;
    char path[4096];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    std::string exe_path = n > 0 ? std::string(path, size_t(n)) : "/proc/self/exe";
    throw Error("cannot run from a sealed copy of " + exe_path +
                    " (a container could otherwise overwrite it through /proc/self/exe, CVE-2019-5736)",
                errno);
}

}  // namespace crunlite::startup
