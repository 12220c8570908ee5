#include "sealed_exe.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char** environ;

namespace crunlite::linux_setup {
namespace {

constexpr const char* kReexecMarker = "_CRUN_LITE_SEALED_EXE";

// Our executable is safe from the container when the file behind /proc/self/exe cannot be
// opened for writing at all: a read-only overlayfs, or a memfd sealed against writes.
bool running_sealed() {
    UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!exe) return false;
    struct statfs fs{};
    if (::fstatfs(exe.get(), &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC && (fs.f_flags & ST_RDONLY)) return true;
    int seals = ::fcntl(exe.get(), F_GET_SEALS);
    return seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SEAL);
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
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", dir.c_str(), 0) != 0 ||
        ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", empty_path.c_str(), 0) != 0 ||
        ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        return {};
    UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID));
    if (!mnt) return {};
    UniqueFd file(::openat(mnt.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st{};
    if (!file || ::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
    return mnt;  // the mount's root directory: we exec `name` relative to it
}

// The whole binary copied into a memfd, then sealed: slower (the file is copied on every
// command), used only where overlayfs cannot be.
UniqueFd memfd_copy() {
    UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!exe) return {};
    struct stat st{};
    if (::fstat(exe.get(), &st) != 0) return {};
    int fd = ::memfd_create("crun-lite", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = ::memfd_create("crun-lite", MFD_CLOEXEC | MFD_ALLOW_SEALING);
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

void ensure_sealed_executable(char** argv) {
    if (::getenv(kReexecMarker)) {
        ::unsetenv(kReexecMarker);  // never passed on (hooks, the container)
        return;                     // re-executed once already: never loop
    }
    if (running_sealed()) return;
    char path[4096];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) throw Error("read /proc/self/exe", errno);
    path[n] = '\0';
    std::string exe_path(path);
    ::setenv(kReexecMarker, "1", 1);
    if (UniqueFd mnt = overlay_copy(exe_path)) {
        std::string name = exe_path.substr(exe_path.rfind('/') + 1);
        ::execveat(mnt.get(), name.c_str(), argv, environ, 0);
    }
    // Without overlayfs (an unprivileged user): a binary this user cannot write, its
    // containers (whose ids all map into this user's) cannot write either.
    if (::geteuid() != 0 && ::faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0 && errno == EACCES) {
        ::unsetenv(kReexecMarker);
        return;
    }
    if (UniqueFd copy = memfd_copy()) ::execveat(copy.get(), "", argv, environ, AT_EMPTY_PATH);
    int err = errno;
    ::unsetenv(kReexecMarker);
    throw Error("cannot run from a sealed copy of " + exe_path +
                    " (a container could otherwise overwrite it through /proc/self/exe, CVE-2019-5736)",
                err);
}

}  // namespace crunlite::linux_setup
