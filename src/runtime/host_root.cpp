#include "runtime/host_root.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <optional>

#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "sys/mount_api.hpp"
#include "sys/mount_info.hpp"

namespace crunlite::runtime {
namespace {

bool detach(int fd) { return ::umount2(("/proc/self/fd/" + std::to_string(fd)).c_str(), MNT_DETACH) == 0; }

}  // namespace

HostRoot HostRoot::attach(const std::string& rootfs) {
    HostRoot root;
    UniqueFd target(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!target) throw Error(".root.path: open " + rootfs, errno);
    UniqueFd tree = sys::clone_tree(target.get(), "", true, ".root.path");
    // Private before it is attached: nothing mounted on it later may reach another namespace.
    sys::set_propagation(tree.get(), MS_PRIVATE, true, ".root.path");
    sys::attach(tree.get(), target.get(), ".root.path: attach the container's root in the runtime's mount namespace");
    root.mount_ = std::move(tree);
    root.rootfs_ = rootfs;
    root.id_ = sys::mount_id(root.mount_.get());
    root.unique_id_ = sys::unique_mount_id(root.mount_.get());
    return root;
}

HostRoot::~HostRoot() {
    if (mount_ && !kept_) detach_host_root(rootfs_, id_, unique_id_);
}

void detach_host_root(const std::string& rootfs, uint64_t id, uint64_t unique_id) {
    // A bounded number of layers: the container may have stacked mounts on its own root.
    for (int layer = 0; layer < 64; ++layer) {
        UniqueFd top(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!top) return;
        bool ours = unique_id ? sys::unique_mount_id(top.get()) == unique_id : sys::mount_id(top.get()) == id;
        if (!ours) {
            // Covered? Then ours is somewhere down the stack of mounts at `rootfs`.
            std::optional<sys::MountInfo> below = sys::find_mount(sys::mount_id(top.get()));
            while (below && below->mount_point == rootfs && below->id != id) below = sys::find_mount(below->parent);
            if (!below || below->id != id || below->mount_point != rootfs) return;  // not ours any more
        }
        if (!detach(top.get())) {
            log::warning("detach the container's mount at " + rootfs + ": " + Error::errno_text(errno));
            return;
        }
        if (ours) return;
    }
}

}  // namespace crunlite::runtime
