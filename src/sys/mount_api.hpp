// Thin wrappers over the new mount API (fsopen/fsmount, open_tree, mount_setattr,
// move_mount): every mount is built detached and attached to a target by fd, so no
// path is looked up twice and a racing symlink cannot redirect it.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crunlite/unique_fd.hpp"

namespace crunlite::sys {

using FsOptions = std::vector<std::pair<std::string, std::string>>;

// A filesystem context (fsopen) with the source and options set, not created yet: the kernel
// has checked the type and every option. `what` names the config field for errors;
// `option_paths[i]`, where given, the field of options[i] (".mounts[2].options[1]").
UniqueFd configure_filesystem(const std::string& type, const std::string& source, const FsOptions& options,
                              const std::string& what, const std::vector<std::string>& option_paths = {});

// A new detached filesystem mount. `what` and `option_paths` as for configure_filesystem.
UniqueFd make_filesystem(const std::string& type, const std::string& source, const FsOptions& options, uint64_t attrs,
                         const std::string& what, const std::vector<std::string>& option_paths = {});

// Reconfigures the superblock of the mount mount_fd refers to (fspick; EINVAL where it is not
// the root of a mount) with `options`: the superblock half of mount(2)'s MS_REMOUNT.
void reconfigure_filesystem(int mount_fd, const FsOptions& options, const std::string& what,
                            const std::vector<std::string>& option_paths = {});

// A detached copy of the mount tree at dirfd/path (AT_EMPTY_PATH when path is empty).
UniqueFd clone_tree(int dirfd, const std::string& path, bool recursive, const std::string& what, bool follow = true);

void set_attributes(int mount_fd, uint64_t set, uint64_t clear, bool recursive, const std::string& what);
void set_propagation(int mount_fd, uint64_t propagation, bool recursive, const std::string& what);
// A detached private bind mount of `path`, with mount attributes `attrs` (one mount_setattr).
UniqueFd private_bind(const std::string& path, uint64_t attrs, const std::string& what);

// Attaches a detached mount onto the object target_fd refers to.
void attach(int mount_fd, int target_fd, const std::string& what);
// Attaches it onto `name` in the directory dir_fd: only for a directory no one else can change.
void attach_at(int mount_fd, int dir_fd, const std::string& name, const std::string& what);

}  // namespace crunlite::sys
