// /dev inside the container: the standard devices, its symlinks, and linux.devices.
// Device nodes are made with mknod, or bind-mounted from the host inside a user
// namespace (where mknod is not allowed).
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "crunlite/error.hpp"
#include "sys/in_root.hpp"
#include "init/init_steps.hpp"
#include "sys/mount_api.hpp"

namespace crunlite::init {
namespace {

struct NodeRequest {
    std::string path;  // inside the container, e.g. /dev/null
    mode_t type;       // S_IFCHR, S_IFBLK, S_IFIFO
    dev_t device;
    mode_t permissions;
    uid_t uid;
    gid_t gid;
    std::string what;  // config field, for errors
};

// The directory nodes go in, opened once for a run of nodes in the same one (/dev).
struct ParentDirectory {
    std::string path;
    UniqueFd fd;
    bool owner_is_ours = false;  // new nodes get our uid and gid: no chown needed for 0:0
};

void create_node(const InitPlan& plan, int root_fd, const NodeRequest& node, ParentDirectory& parent) {
    auto [parent_path, name] = sys::split_parent(node.path);
    if (!parent.fd || parent.path != parent_path) {
        try {
            // /dev itself must not be a symlink out of the root (CVE-2026-41579).
            parent.fd = sys::make_directory_in_root(root_fd, parent_path);
        } catch (const Error& e) {
            throw Error(node.what + ": " + e.what());
        }
        parent.path = parent_path;
        struct stat dir{};
        // A set-group-ID directory would give new nodes its group.
        parent.owner_is_ours = ::fstat(parent.fd.get(), &dir) == 0 && !(dir.st_mode & S_ISGID);
    }
    int at = parent.fd.get();
    if (plan.in_user_ns && node.type != S_IFIFO) {
        struct stat st{};
        if (::fstatat(at, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if ((st.st_mode & S_IFMT) == node.type && st.st_rdev == node.device) return;  // already right
            if (S_ISDIR(st.st_mode)) throw Error(node.what + ": " + node.path + " is a directory");
            if (::unlinkat(at, name.c_str(), 0) != 0) throw Error(node.what + ": remove " + node.path, errno);
        }
        UniqueFd placeholder(::openat(at, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!placeholder) throw Error(node.what + ": create " + node.path, errno);
        UniqueFd target(::openat(at, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        UniqueFd host = sys::clone_tree(AT_FDCWD, node.path, false, node.what);
        sys::attach(host.get(), target.get(), node.what);
        return;
    }
    if (::mknodat(at, name.c_str(), node.type | node.permissions, node.device) != 0) {
        struct stat st{};
        if (errno != EEXIST || ::fstatat(at, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw Error(node.what + ": mknod " + node.path, errno);
        if ((st.st_mode & S_IFMT) == node.type && st.st_rdev == node.device) return;  // already right
        if (S_ISDIR(st.st_mode)) throw Error(node.what + ": " + node.path + " is a directory");
        // Whatever the image put there (a file, a symlink) is replaced, never followed.
        if (::unlinkat(at, name.c_str(), 0) != 0) throw Error(node.what + ": remove " + node.path, errno);
        if (::mknodat(at, name.c_str(), node.type | node.permissions, node.device) != 0)
            throw Error(node.what + ": mknod " + node.path, errno);
    }
    bool owned = parent.owner_is_ours && node.uid == ::geteuid() && node.gid == ::getegid();
    if (!owned && ::fchownat(at, name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error(node.what + ": chown " + node.path, errno);
}

}  // namespace

void create_devices(const InitPlan& plan, int root_fd) {
    static const struct { const char* name; unsigned major, minor; } standard[] = {
        {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
    };
    const spec::Spec& spec = *plan.spec;
    auto configured = [&](const std::string& path) {
        for (auto& d : spec.linux.devices)
            if (d.path == path) return true;
        return false;
    };
    ParentDirectory parent;
    for (auto& d : standard) {
        std::string path = std::string("/dev/") + d.name;
        if (configured(path)) continue;  // linux.devices overrides the default node
        create_node(plan, root_fd, {path, S_IFCHR, makedev(d.major, d.minor), 0666, 0, 0, "default device " + path}, parent);
    }
    for (size_t i = 0; i < spec.linux.devices.size(); ++i) {
        const spec::Device& d = spec.linux.devices[i];
        mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
        create_node(plan, root_fd,
                    {d.path, type, makedev(unsigned(d.major), unsigned(d.minor)), d.file_mode.value_or(0666) & 07777,
                     d.uid.value_or(0), d.gid.value_or(0), ".linux.devices[" + std::to_string(i) + "]"},
                    parent);
    }

    UniqueFd dev = sys::open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
    if (!dev) throw Error("open /dev in the container's root", errno);
    static const std::pair<const char*, const char*> links[] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
    };
    for (auto& [target, name] : links) {
        if (std::string(name) == "ptmx") {
            struct stat st{};
            // An image's own ptmx node would bypass the container's devpts instance.
            if (::fstatat(dev.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))
                ::unlinkat(dev.get(), name, 0);
        }
        if (::symlinkat(target, dev.get(), name) != 0 && errno != EEXIST) throw Error(std::string("symlink /dev/") + name, errno);
    }
    if (::access("/proc/kcore", F_OK) == 0 && ::symlinkat("/proc/kcore", dev.get(), "core") != 0 && errno != EEXIST)
        throw Error("symlink /dev/core", errno);
}

}  // namespace crunlite::init
