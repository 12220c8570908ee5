// The root filesystem around the mounts: making it a mount of its own, masked and
// read-only paths, root.readonly, and the switch into it.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "crunlite/error.hpp"
#include "sys/in_root.hpp"
#include "init/init_steps.hpp"
#include "sys/mount_api.hpp"

namespace crunlite::init {
namespace {

// The mount point of the mount that holds `path` (longest matching mount point).
std::string mount_point_of(const std::string& path) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line, best = "/";
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, dev, root, mount_point;
        fields >> id >> parent >> dev >> root >> mount_point;
        bool contains = path == mount_point || mount_point == "/" ||
                        (path.rfind(mount_point, 0) == 0 && path.size() > mount_point.size() && path[mount_point.size()] == '/');
        if (contains && mount_point.size() > best.size()) best = mount_point;
    }
    return best;
}

}  // namespace

UniqueFd prepare_root(const InitPlan& plan) {
    // Mount events inside must not reach the host (slave is runc's default). An unbindable tree
    // could not give the rootfs its bind below: it stays private until after pivot_root.
    unsigned long before_pivot = plan.rootfs_propagation == MS_UNBINDABLE ? MS_PRIVATE : plan.rootfs_propagation;
    unsigned long propagation = before_pivot | (plan.rootfs_propagation_recursive ? MS_REC : 0);
    if (::mount(nullptr, "/", nullptr, propagation, nullptr) != 0)
        throw Error("set the propagation of / (.linux.rootfsPropagation)", errno);
    const std::string& rootfs = plan.spec->root.path;
    // pivot_root needs the new root to be a mount point: bind it onto itself.
    if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        throw Error(".root.path: bind " + rootfs, errno);
    if (plan.rootfs_propagation == MS_SHARED) {
        // pivot_root refuses a shared new root or a shared parent of it: both are private for
        // the switch, and "/" becomes shared again right after it (enter_root).
        std::string parent = mount_point_of(rootfs.substr(0, rootfs.rfind('/')));
        if (::mount(nullptr, parent.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
            throw Error(".linux.rootfsPropagation: make " + parent + " private for pivot_root", errno);
        if (::mount(nullptr, rootfs.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
            throw Error(".linux.rootfsPropagation: make " + rootfs + " private for pivot_root", errno);
    }
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
    UniqueFd empty_directory;
    for (size_t i = 0; i < spec.linux.masked_paths.size(); ++i) {
        const std::string& path = spec.linux.masked_paths[i];
        std::string what = ".linux.maskedPaths[" + std::to_string(i) + "]";
        UniqueFd target = sys::open_in_root(root_fd, path, O_PATH);
        if (!target) {
            if (errno == ENOENT) continue;
            throw Error(what + ": open " + path, errno);
        }
        if (::fstat(target.get(), &st) != 0) throw Error(what + ": stat " + path, errno);
        if (!S_ISDIR(st.st_mode)) {
            sys::attach(sys::clone_tree(null_device.get(), "", false, what).get(), target.get(), what);
            continue;
        }
        // Directories get a read-only empty tmpfs: one instance, whose attached mount the
        // others copy (a superblock fewer to make, and to tear down when the container ends).
        if (empty_directory) {
            sys::attach(sys::clone_tree(empty_directory.get(), "", false, what).get(), target.get(), what);
            continue;
        }
        empty_directory = sys::make_filesystem("tmpfs", "tmpfs", {}, MOUNT_ATTR_RDONLY, what);
        sys::attach(empty_directory.get(), target.get(), what);
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
    if (plan.no_pivot) {
        if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) throw Error("move the root filesystem to / (--no-pivot)", errno);
        if (::chroot(".") != 0) throw Error("chroot into the root filesystem (--no-pivot)", errno);
    } else {
        if (::syscall(SYS_pivot_root, ".", ".") != 0) {
            int err = errno;
            throw Error(std::string("pivot_root ") + plan.spec->root.path, err,
                        err == EINVAL ? "the root is on a shared mount or in a ramfs: set .linux.rootfsPropagation, or run with --no-pivot" : "");
        }
        // The old root now sits on top of the new one; detach it without telling the host.
        if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) throw Error("make the old root a slave", errno);
        if (::umount2(".", MNT_DETACH) != 0) throw Error("detach the old root", errno);
    }
    if (::chdir("/") != 0) throw Error("chdir / in the container", errno);
    bool applied_late = plan.rootfs_propagation == MS_SHARED || plan.rootfs_propagation == MS_UNBINDABLE;
    if (applied_late &&
        ::mount(nullptr, "/", nullptr, plan.rootfs_propagation | (plan.rootfs_propagation_recursive ? MS_REC : 0), nullptr) != 0)
        throw Error(".linux.rootfsPropagation: set the propagation of /", errno);
}

}  // namespace crunlite::init
