#include "plan/idmapped_bind.hpp"

#include <fcntl.h>
#include <sys/mount.h>

#include <cerrno>

#include "crunlite/error.hpp"
#include "sys/mount_api.hpp"

namespace crunlite::planning {

UniqueFd bind_tree(const PlannedMount& m) {
    const MountOptions& o = m.options;
    UniqueFd tree = sys::clone_tree(AT_FDCWD, m.source, o.recursive_bind, m.json_path + ".source", !o.src_nofollow);
    sys::set_attributes(tree.get(), o.attr_set, o.attr_clear, false, m.json_path + ".options");
    sys::set_attributes(tree.get(), o.recursive_attr_set, o.recursive_attr_clear, true, m.json_path + ".options");
    sys::set_propagation(tree.get(), o.propagation, o.recursive_propagation, m.json_path + ".options");
    return tree;
}

UniqueFd make_idmapped_bind(const PlannedMount& m, int userns) {
    UniqueFd tree = bind_tree(m);
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = uint64_t(userns);
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (m.options.recursive_idmap ? AT_RECURSIVE : 0), &attr, sizeof attr) != 0)
        throw Error(m.json_path + ": idmap the mount of " + m.source +
                        (errno == EINVAL ? " (its filesystem may not support idmapped mounts)" : ""),
                    errno);
    return tree;
}

}  // namespace crunlite::planning
