#include "sys/in_root.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crunlite/error.hpp"

namespace crunlite::sys {

std::pair<std::string, std::string> split_parent(const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    auto slash = trimmed.rfind('/');
    if (slash == std::string::npos) return {"/", trimmed};
    return {slash == 0 ? "/" : trimmed.substr(0, slash), trimmed.substr(slash + 1)};
}

UniqueFd open_in_root(int root_fd, const std::string& path, int flags, uint64_t extra_resolve) {
    open_how how{};
    how.flags = uint64_t(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra_resolve;
    int fd;
    do {
        fd = int(::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how));
    } while (fd < 0 && errno == EAGAIN);  // the kernel asks for a retry when a rename raced the walk
    return UniqueFd(fd);
}

UniqueFd make_directory_in_root(int root_fd, const std::string& path, mode_t mode, int links_followed) {
    UniqueFd dir = open_in_root(root_fd, path, O_PATH | O_DIRECTORY);
    if (dir) return dir;
    if (errno != ENOENT) throw Error("open " + path + " in the container's root", errno);

    // Usually only the last component is missing (a mount point in a new /dev): make it in its
    // in-root resolved parent and reopen it in-root. Anything else takes the walk below.
    auto [parent_path, name] = split_parent(path);
    if (!name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos) {
        UniqueFd parent = open_in_root(root_fd, parent_path, O_PATH | O_DIRECTORY);
        if (parent && ::mkdirat(parent.get(), name.c_str(), mode) == 0) {
            dir = open_in_root(root_fd, path, O_PATH | O_DIRECTORY);
            if (dir) return dir;
        }
    }

    // Walk from the root, creating what is missing one component at a time. Each new
    // component is made with mkdirat in its (in-root resolved) parent, then reopened
    // in-root, so a symlink swapped in by a racing process still cannot lead outside.
    UniqueFd current = open_in_root(root_fd, "/", O_PATH | O_DIRECTORY);
    if (!current) throw Error("open the container's root", errno);
    std::string prefix;
    size_t pos = 0;
    while (pos < path.size()) {
        size_t next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        std::string component = path.substr(pos, next - pos);
        pos = next + 1;
        if (component.empty() || component == ".") continue;
        prefix += "/" + component;
        UniqueFd child = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
        if (!child && errno == ENOENT && component != "..") {
            if (::mkdirat(current.get(), component.c_str(), mode) != 0 && errno != EEXIST)
                throw Error("mkdir " + prefix + " in the container's root", errno);
            child = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
            char target[4096];
            ssize_t n;
            if (!child && errno == ENOENT &&
                (n = ::readlinkat(current.get(), component.c_str(), target, sizeof target - 1)) > 0) {
                // A dangling symlink: create what it points to, resolved from its own directory.
                if (links_followed >= 40) throw Error("mkdir " + path + " in the container's root", ELOOP);
                target[n] = '\0';
                std::string parent = prefix.substr(0, prefix.size() - component.size());
                std::string rest = pos < path.size() ? path.substr(pos) : "";
                std::string redirected = (target[0] == '/' ? std::string(target) : parent + target) + "/" + rest;
                return make_directory_in_root(root_fd, redirected, mode, links_followed + 1);
            }
        }
        if (!child) throw Error("open " + prefix + " in the container's root", errno);
        current = std::move(child);
    }
    return current;
}

UniqueFd make_file_in_root(int root_fd, const std::string& path) {
    UniqueFd file = open_in_root(root_fd, path, O_PATH);
    if (file) return file;
    if (errno != ENOENT) throw Error("open " + path + " in the container's root", errno);
    auto [parent_path, name] = split_parent(path);
    UniqueFd parent = make_directory_in_root(root_fd, parent_path);
    // O_EXCL: what appeared there meanwhile (a fifo, a device node the container made) is never
    // opened; the check below takes it as it is, as it would have an existing file.
    UniqueFd created(::openat(parent.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0644));
    if (!created && errno != EEXIST) throw Error("create " + path + " in the container's root", errno);
    file = open_in_root(root_fd, path, O_PATH, RESOLVE_NO_SYMLINKS);
    if (!file) throw Error("open " + path + " in the container's root", errno);
    return file;
}

}  // namespace crunlite::sys
