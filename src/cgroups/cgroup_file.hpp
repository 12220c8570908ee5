// Reading and writing one cgroup control file: the two operations every cgroup module needs.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"
#include "cgroups/resource_writes.hpp"
#include "util/text.hpp"

namespace crunlite::cgroups {

// Writes `value` with one write(2), as the kernel wants control files written; 0 or the errno.
inline int try_write_cgroup_file(const std::string& path, const std::string& value) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return errno;
    ssize_t n = ::write(fd.get(), value.data(), value.size());
    return n == ssize_t(value.size()) ? 0 : (n < 0 ? errno : EIO);
}

inline void write_cgroup_file(const std::string& path, const std::string& value) {
    if (int err = try_write_cgroup_file(path, value)) throw Error("write \"" + value + "\" to " + path, err, cgroup_write_hint(err));
}

// The first line of a control file ("" when it cannot be read).
inline std::string read_cgroup_line(const std::string& path) {
    std::string content;
    if (!text::read_file(path, content)) return "";
    return content.substr(0, content.find('\n'));
}

}  // namespace crunlite::cgroups
