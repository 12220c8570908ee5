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

std::string unescape(std::string_view field) {
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3') {
            out += char((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}

}  // namespace

uint64_t mount_id(int fd) { return statx_mount_id(fd, STATX_MNT_ID); }
uint64_t unique_mount_id(int fd) { return statx_mount_id(fd, kStatxUniqueMountId); }

std::optional<MountInfo> find_mount(uint64_t id) {
    std::string text;
    // A busy host can have tens of thousands of mounts: no small limit here.
    if (!text::read_file("/proc/self/mountinfo", text, size_t(256) << 20)) throw Error("read /proc/self/mountinfo", errno);
    std::string wanted = std::to_string(id) + " ";
    for (std::string_view line : text::split(text, '\n')) {
        if (line.substr(0, wanted.size()) != wanted) continue;
        // id parent maj:min root mount-point options [optional...] - fstype source super-options
        std::vector<std::string_view> fields = text::split(line, ' ');
        if (fields.size() < 7) return std::nullopt;
        MountInfo info;
        info.id = id;
        info.parent = std::stoull(std::string(fields[1]));
        info.mount_point = unescape(fields[4]);
        for (size_t i = 6; i < fields.size() && fields[i] != "-"; ++i) info.shared |= fields[i].substr(0, 7) == "shared:";
        return info;
    }
    return std::nullopt;
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
