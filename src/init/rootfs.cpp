// The root filesystem around the mounts: making it a mount of its own, masked and
// read-only paths, root.readonly, and the switch into it.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <optional>

#include "crunlite/error.hpp"
#include "sys/in_root.hpp"
#include "init/init_steps.hpp"
#include "sys/mount_api.hpp"
#include "sys/mount_info.hpp"

namespace crunlite::init {
namespace {

// pivot_root refuses a new root whose mount, or the mount under it, is shared; and while the
// mount holding the root filesystem is shared, the bind of the root onto itself would show up
// in every peer of that mount, the host's among them. So that mount, the rootfs itself when it
// is a mount point (containerd's overlay at bundle/rootfs), is made private in this namespace
// before the bind, as runc (rootfsParentMountPrivate) and crun (make_parent_mount_private) do.
// Only a shared one: a slave keeps receiving what the host mounts there.
void make_root_mount_private(int rootfs_fd) {
    // The rootfs is on the mount it is looked up by; the walk to that mount's root comes after.
    std::optional<sys::MountInfo> info = sys::find_mount(sys::mount_id(rootfs_fd));
    if (!info || !info->shared) return;
    UniqueFd mount_root = sys::mount_root_of(rootfs_fd);
    sys::set_propagation(mount_root.get(), MS_PRIVATE, false,
                         ".linux.rootfsPropagation: make " + info->mount_point + ", the mount holding the root, private for pivot_root");
}

}  // namespace

UniqueFd prepare_root(const InitPlan& plan, int host_root) {
    if (plan.shares_mount_ns) {
        // The runtime's mount namespace, the host's: its propagation is not ours to change. The
        // host root mount is ours alone (private, detached at delete): the config's
        // rootfsPropagation applies to it and what is mounted on it.
        UniqueFd root(::fcntl(host_root, F_DUPFD_CLOEXEC, 3));
        if (!root) throw Error("dup the container's root mount", errno);
        if (plan.rootfs_propagation != MS_SLAVE)
            sys::set_propagation(root.get(), plan.rootfs_propagation, plan.rootfs_propagation_recursive, ".linux.rootfsPropagation");
        return root;
    }
    // Mount events inside must not reach the host (slave is runc's default). An unbindable tree
    // could not give the rootfs its bind below: it stays private until after pivot_root.
    unsigned long before_pivot = plan.rootfs_propagation == MS_UNBINDABLE ? static_cast<unsigned long>(MS_PRIVATE) : plan.rootfs_propagation;
    unsigned long propagation = before_pivot | (plan.rootfs_propagation_recursive ? MS_REC : 0);
    if (::mount(nullptr, "/", nullptr, propagation, nullptr) != 0)
        throw Error("set the propagation of / (.linux.rootfsPropagation)", errno);
    const std::string& rootfs = plan.spec->root.path;
    // After a recursive slave or private (the default rslave among them), no mount of this
    // namespace is shared any more: the usual start reads no mountinfo.
    bool none_shared = plan.rootfs_propagation_recursive && (before_pivot == MS_SLAVE || before_pivot == MS_PRIVATE);
    if (!none_shared) {
        UniqueFd rootfs_dir(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!rootfs_dir) throw Error(".root.path: open " + rootfs, errno);
        make_root_mount_private(rootfs_dir.get());
    }
    // pivot_root needs the new root to be a mount point: bind it onto itself.
    if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        throw Error(".root.path: bind " + rootfs, errno);
    UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw Error(".root.path: open " + rootfs, errno);
    return root;
}

void mask_paths(const spec::Spec& spec, int root_fd) {
    if (spec.linux.masked_paths.empty()) return;
    // Masks are the host's /dev/null, checked to be the real device: the container's own
    // /dev/null could be a symlink to something worth writing to (CVE-2025-31133).
    UniqueFd null_device(::open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st{};
    if (!null_device || ::fstat(null_device.get(), &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        throw Error("the host's /dev/null is not the null device");
    UniqueFd empty_directory, null_mask;
    for (size_t i = 0; i < spec.linux.masked_paths.size(); ++i) {
        const std::string& path = spec.linux.masked_paths[i];
        std::string what = ".linux.maskedPaths[" + std::to_string(i) + "]";
        UniqueFd target = sys::open_in_root(root_fd, path, O_PATH);
        if (!target) {
            if (errno == ENOENT) continue;
            throw Error(what + ": open " + path, errno);
        }
        if (::fstat(target.get(), &st) != 0) throw Error(what + ": stat " + path, errno);
        // Each kind of mask is made once and attached; the others of its kind copy that mount.
        // Files get the host's /dev/null, made private: a copy of the host's /dev mount would
        // otherwise be a slave of its peer group (on a systemd host, where / is shared), which
        // ties the container to the host's /dev and which CRIU cannot restore. Directories get
        // a read-only empty tmpfs (a superblock fewer to make, and to tear down at the end).
        bool is_file = !S_ISDIR(st.st_mode);
        UniqueFd& first = is_file ? null_mask : empty_directory;
        if (first) {
            sys::attach(sys::clone_tree(first.get(), "", false, what).get(), target.get(), what);
            continue;
        }
        if (is_file) {
            first = sys::clone_tree(null_device.get(), "", false, what);
            sys::set_propagation(first.get(), MS_PRIVATE, false, what);
        } else {
            first = sys::make_filesystem("tmpfs", "tmpfs", {}, MOUNT_ATTR_RDONLY, what);
        }
        sys::attach(first.get(), target.get(), what);
    }
}

void make_paths_read_only(const spec::Spec& spec, int root_fd) {
    for (size_t i = 0; i < spec.linux.readonly_paths.size(); ++i) {
        const std::string& path = spec.linux.readonly_paths[i];
        std::string what = ".linux.readonlyPaths[" + std::to_string(i) + "]";
        UniqueFd target = sys::open_in_root(root_fd, path, O_PATH);
        if (!target) {
            if (errno == ENOENT) continue;
            throw Error(what + ": open " + path, errno);
        }
        UniqueFd copy = sys::clone_tree(target.get(), "", true, what);
        sys::set_attributes(copy.get(), MOUNT_ATTR_RDONLY, 0, true, what);
        sys::attach(copy.get(), target.get(), what);
    }
}

void finish_root(const InitPlan& plan, int root_fd) {
    // A missing working directory is created, as runc does, while the root is still writable.
    try {
        sys::make_directory_in_root(root_fd, plan.spec->process->cwd);
    } catch (const Error& e) {
        throw Error(".process.cwd: " + std::string(e.what()));
    }
    if (plan.spec->root.readonly) sys::set_attributes(root_fd, MOUNT_ATTR_RDONLY, 0, false, ".root.readonly");
}

void enter_root(const InitPlan& plan, int root_fd) {
    if (::fchdir(root_fd) != 0) throw Error(".root.path: chdir", errno);
    if (plan.shares_mount_ns) {
        // pivot_root or a move onto "/" would change the root of the host's namespace itself.
        if (::chroot(".") != 0) throw Error("chroot into the root filesystem", errno);
        if (::chdir("/") != 0) throw Error("chdir / in the container", errno);
        return;
    }
    if (plan.no_pivot) {
        if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) throw Error("move the root filesystem to / (--no-pivot)", errno);
        if (::chroot(".") != 0) throw Error("chroot into the root filesystem (--no-pivot)", errno);
    } else {
        // The old root, to detach after pivot_root: by descriptor, since what "." names right
        // after pivot_root(".", ".") is up to the kernel (runc keeps the old root open too).
        UniqueFd old_root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!old_root) throw Error("open the old root", errno);
        if (::syscall(SYS_pivot_root, ".", ".") != 0) {
            int err = errno;
            throw Error(std::string("pivot_root ") + plan.spec->root.path, err,
                        err == EINVAL ? "the root is on a shared mount or in a ramfs: set .linux.rootfsPropagation, or run with --no-pivot" : "");
        }
        // The old root now sits on top of the new one; detach it without telling the host. Only
        // the old root's tree becomes a slave: done from the new root, it would also turn the
        // container's `rshared` volumes into slaves, and mounts made inside them would no longer
        // reach the host (Kubernetes' Bidirectional mount propagation).
        if (::fchdir(old_root.get()) != 0) throw Error("chdir to the old root", errno);
        if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) throw Error("make the old root a slave", errno);
        if (::umount2(".", MNT_DETACH) != 0) throw Error("detach the old root", errno);
    }
    if (::chdir("/") != 0) throw Error("chdir / in the container", errno);
    bool applied_late = plan.rootfs_propagation == MS_SHARED || plan.rootfs_propagation == MS_UNBINDABLE;
    if (applied_late &&
        ::mount(nullptr, "/", nullptr, plan.rootfs_propagation | (plan.rootfs_propagation_recursive ? MS_REC : 0), nullptr) != 0)
        throw Error(".linux.rootfsPropagation: set the propagation of /", errno);
}

void enter_exec_root(int root_fd) {
    if (::fchdir(root_fd) != 0 || ::chroot(".") != 0) throw Error("chroot into the container's root", errno);
    if (::chdir("/") != 0) throw Error("chdir / in the container", errno);
}

}  // namespace crunlite::init
