#include "sys/mount_info.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string_view>
#include <vector>

#include "crunlite/error.hpp"
#include "util/text.hpp"

namespace crunlite::sys {
namespace {

// STATX_MNT_ID_UNIQUE is newer than Debian 12's headers; it fills the same stx_mnt_id.
constexpr unsigned kStatxUniqueMountId = 0x4000;

uint64_t statx_mount_id(int fd, unsigned mask) {
    struct statx st{};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, mask, &st) != 0 || !(st.stx_mask & mask)) return 0;
    return st.stx_mnt_id;
}

std::string unescape(std::string_view path) {
    auto octal = [](char ch) { return ch >= '0' && ch <= '7'; };
    std::string out;
    for (size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '\\' && path.size() - i >= 4 && octal(path[i + 1]) && octal(path[i + 2]) && octal(path[i + 3])) {
            out += char((path[i + 1] - '0') * 64 + (path[i + 2] - '0') * 8 + (path[i + 3] - '0'));
            i += 3;
        } else {
            out += path[i];
        }
    }
    return out;
}

}  // namespace

uint64_t mount_id(int fd) { return statx_mount_id(fd, STATX_MNT_ID); }
uint64_t unique_mount_id(int fd) { return statx_mount_id(fd, kStatxUniqueMountId); }

std::optional<MountinfoLine> parse_mountinfo_line(std::string_view line) {
    std::vector<std::string_view> fields = text::split(line, ' ');
    size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash + 1 >= fields.size()) return std::nullopt;
    MountinfoLine parsed;
    parsed.parent = fields[1];
    parsed.mount_point = unescape(fields[4]);
    for (size_t i = 6; i < dash; ++i) parsed.shared |= fields[i].substr(0, 7) == "shared:";
    parsed.fstype = fields[dash + 1];
    if (dash + 3 < fields.size()) parsed.super_options = fields[dash + 3];
    return parsed;
}

std::optional<MountInfo> find_mount(uint64_t id) {
    std::string text;
    // A busy host can have tens of thousands of mounts: no small limit here.
    if (!text::read_file("/proc/self/mountinfo", text, size_t(256) << 20)) throw Error("read /proc/self/mountinfo", errno);
    std::string wanted = std::to_string(id) + " ";
    for (std::string_view line : text::split(text, '\n')) {
        if (line.substr(0, wanted.size()) != wanted) continue;
        std::optional<MountinfoLine> parsed = parse_mountinfo_line(line);
        if (!parsed) return std::nullopt;
        MountInfo info;
        info.id = id;
        info.parent = std::stoull(std::string(parsed->parent));
        info.mount_point = std::move(parsed->mount_point);
        info.shared = parsed->shared;
        return info;
    }
    return std::nullopt;
}

bool is_mount_root(const std::string& path) {
    struct statx st{};
    return ::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, 0, &st) == 0 && (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
           (st.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

UniqueFd mount_root_of(int dir_fd) {
    UniqueFd current(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 3));
    if (!current) throw Error("dup a directory descriptor", errno);
    uint64_t id = mount_id(current.get());
    // ".." at a mount's root leads into the mount below it; at the process's root it stays put.
    for (;;) {
        UniqueFd parent(::openat(current.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!parent) throw Error("open the parent of a directory on the way to its mount's root", errno);
        struct stat here{}, up{};
        if (::fstat(current.get(), &here) != 0 || ::fstat(parent.get(), &up) != 0) throw Error("stat a directory", errno);
        bool at_top = here.st_ino == up.st_ino && here.st_dev == up.st_dev;
        if (at_top || mount_id(parent.get()) != id) return current;
        current = std::move(parent);
    }
}

}  // namespace crunlite::sys
