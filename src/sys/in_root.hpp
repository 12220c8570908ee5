// Opening and creating paths inside the container's root filesystem. Every path from
// config.json and every entry of the image is hostile: resolution uses openat2 with
// RESOLVE_IN_ROOT, so symlinks and ".." can never lead outside the root.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "crunlite/unique_fd.hpp"

namespace crunlite::sys {

// openat2(root_fd, path, flags, RESOLVE_IN_ROOT | extra_resolve). Returns an invalid fd and
// leaves errno set on failure (callers decide whether a missing path is an error).
UniqueFd open_in_root(int root_fd, const std::string& path, int flags, uint64_t extra_resolve = 0);

// mkdir -p of `path` inside the root; returns an O_PATH fd of the final directory.
// A dangling symlink on the way is followed inside the root and its target created, as
// runc does for images with links such as /var/run -> /run.
UniqueFd make_directory_in_root(int root_fd, const std::string& path, mode_t mode = 0755, int links_followed = 0);

// Opens `path` (O_PATH) inside the root, creating it as an empty file (parents as
// directories) when absent: the target of a bind mount of a file.
UniqueFd make_file_in_root(int root_fd, const std::string& path);

// Splits "/a/b/c" into "/a/b" and "c".
std::pair<std::string, std::string> split_parent(const std::string& path);

}  // namespace crunlite::sys
