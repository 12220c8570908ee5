#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "crunlite/error.hpp"
#include "crunlite/state.hpp"

namespace crunlite::state {

void write_file_atomically(const std::string& path, const std::string& content, unsigned mode) {
    auto slash = path.rfind('/');
    std::string tmp = (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/." +
                      path.substr(slash + 1) + ".tmp" + std::to_string(getpid());
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) throw Error("create " + tmp, errno);
    if (::write(fd.get(), content.data(), content.size()) != ssize_t(content.size())) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw Error("write " + tmp, err);
    }
    fd.reset();
    // Replacing a file with rename(2) makes ext4 (the /run of many hosts) start writing the new
    // file's data at once (auto_da_alloc), and the unlink at delete then waits for that I/O:
    // milliseconds per container. Exchanging the two names is as atomic for readers and
    // does not; the old content, now under the temporary name, is dropped unwritten.
    struct stat existing{};
    if (::lstat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode) &&
        ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0) {
        ::unlink(tmp.c_str());
        return;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {  // no file to exchange with, or no RENAME_EXCHANGE here
        int err = errno;
        ::unlink(tmp.c_str());
        throw Error("rename " + tmp + " to " + path, err);
    }
}

}  // namespace crunlite::state
