#include "sys/mount_api.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "crunlite/error.hpp"

namespace crunlite::sys {
namespace {

// The kernel explains fsconfig failures in the context's message log ("e tmpfs: Bad value...").
std::string context_messages(int fs_fd) {
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fs_fd, buf, sizeof buf - 1)) > 0) {
        buf[n] = '\0';
        std::string line(buf);
        if (line.size() > 2 && line[1] == ' ') line = line.substr(2);
        while (!line.empty() && line.back() == '\n') line.pop_back();
        out += (out.empty() ? "" : "; ") + line;
    }
    return out;
}

[[noreturn]] void fail_with_context(const std::string& what, int fs_fd, int err) {
    std::string detail = context_messages(fs_fd);
    throw Error(what + (detail.empty() ? "" : " (" + detail + ")"), err);
}

}  // namespace

namespace {

void set_options(int fs_fd, const FsOptions& options, const std::string& what, const std::vector<std::string>& option_paths) {
    for (size_t i = 0; i < options.size(); ++i) {
        auto& [key, value] = options[i];
        int rc = value.empty() ? ::fsconfig(fs_fd, FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0)
                               : ::fsconfig(fs_fd, FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0);
        if (rc != 0)
            fail_with_context((i < option_paths.size() ? option_paths[i] : what) + ": option \"" + key +
                                  (value.empty() ? "" : "=" + value) + "\"",
                              fs_fd, errno);
    }
}

}  // namespace

UniqueFd configure_filesystem(const std::string& type, const std::string& source, const FsOptions& options,
                              const std::string& what, const std::vector<std::string>& option_paths) {
    UniqueFd fs(::fsopen(type.c_str(), FSOPEN_CLOEXEC));
    if (!fs) {
        if (errno == ENODEV) throw Error(what + ": unknown filesystem type \"" + type + "\"");
        throw Error(what + ": fsopen " + type, errno);
    }
    if (!source.empty() && ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "source", source.c_str(), 0) != 0)
        fail_with_context(what + ": source \"" + source + "\"", fs.get(), errno);
    set_options(fs.get(), options, what, option_paths);
    return fs;
}

UniqueFd make_filesystem(const std::string& type, const std::string& source, const FsOptions& options, uint64_t attrs,
                         const std::string& what, const std::vector<std::string>& option_paths) {
    UniqueFd fs = configure_filesystem(type, source, options, what, option_paths);
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        fail_with_context(what + ": create " + type + " filesystem", fs.get(), errno);
    UniqueFd mount_fd(::fsmount(fs.get(), FSMOUNT_CLOEXEC, unsigned(attrs)));
    if (!mount_fd) fail_with_context(what + ": fsmount " + type, fs.get(), errno);
    return mount_fd;
}

void reconfigure_filesystem(int mount_fd, const FsOptions& options, const std::string& what,
                            const std::vector<std::string>& option_paths) {
    UniqueFd fs(::fspick(mount_fd, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC));
    if (!fs) throw Error(what + ": open the mounted filesystem to remount", errno);
    set_options(fs.get(), options, what, option_paths);
    if (::fsconfig(fs.get(), FSCONFIG_CMD_RECONFIGURE, nullptr, nullptr, 0) != 0)
        fail_with_context(what + ": remount", fs.get(), errno);
}

UniqueFd clone_tree(int dirfd, const std::string& path, bool recursive, const std::string& what, bool follow) {
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) | (path.empty() ? AT_EMPTY_PATH : 0) |
                     (follow ? 0 : AT_SYMLINK_NOFOLLOW);
    UniqueFd tree(::open_tree(dirfd, path.c_str(), flags));
    if (!tree) throw Error(what + ": bind " + (path.empty() ? std::string("mount") : path), errno);
    return tree;
}

void set_attributes(int mount_fd, uint64_t set, uint64_t clear, bool recursive, const std::string& what) {
    if (!set && !clear) return;
    mount_attr attr{};
    attr.attr_set = set;
    attr.attr_clr = clear;
    if (::mount_setattr(mount_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) != 0)
        throw Error(what + ": set mount options", errno);
}

void set_propagation(int mount_fd, uint64_t propagation, bool recursive, const std::string& what) {
    if (!propagation) return;
    mount_attr attr{};
    attr.propagation = propagation;
    if (::mount_setattr(mount_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) != 0)
        throw Error(what + ": set mount propagation", errno);
}

UniqueFd private_bind(const std::string& path, uint64_t attrs, const std::string& what) {
    UniqueFd mnt = clone_tree(AT_FDCWD, path, false, what);
    mount_attr attr{};
    attr.attr_set = attrs;
    attr.propagation = MS_PRIVATE;
    if (::mount_setattr(mnt.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
        throw Error(what + ": set the options of the bind mount of " + path, errno);
    return mnt;
}

void attach(int mount_fd, int target_fd, const std::string& what) {
    if (::move_mount(mount_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        throw Error(what + ": attach mount", errno);
}

void attach_at(int mount_fd, int dir_fd, const std::string& name, const std::string& what) {
    if (::move_mount(mount_fd, "", dir_fd, name.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) throw Error(what + ": attach mount", errno);
}

}  // namespace crunlite::sys
