// <root>/<id>: the file that holds a container's state and is its lock (see state.hpp).
//
// One file, not a directory holding a state.json as in runc: on a journal-less ext4 (this
// project's /run), every inode made scans the inodes deleted in the last 30 seconds, so with
// hundreds of containers coming and going each extra inode per container costs time that
// grows with their number.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/state.hpp"
#include "util/text.hpp"

namespace crunlite::state {
namespace {

// The most one save writes in place: within one page a write lands whole or not at all (only a
// fatal signal stops a write to a regular file, and only between pages).
constexpr size_t kInPlaceLimit = 4096;

std::string root_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Where a save too large to write in place goes before it takes the name of the state file,
// whose inode makes the name its own as long as the file is there.
std::string replacement_path(const std::string& path, ino_t inode) {
    return root_of(path) + "/:state.new." + std::to_string(inode);
}

void make_dirs(const std::string& path, mode_t mode) {
    std::string partial = path.empty() || path[0] != '/' ? "." : "";
    for (std::string_view part : text::split(path, '/')) {
        partial += '/';
        partial += part;
        if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) throw Error("mkdir " + partial, errno);
    }
}

void lock(int fd, const std::string& path) {
    while (::flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) throw Error("lock " + path, errno);
}

struct stat stat_of(int fd, const std::string& path) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) throw Error("stat " + path, errno);
    return st;
}

// Opens and locks the state file at `path`; an invalid fd and `open_errno` when there is none.
// A file unlinked while we waited for its lock was deleted, or replaced by a large save: then
// whatever the path names now is the container's state (or nothing, and ENOENT). Read-only:
// flock needs no more, and only the process that created the file writes it.
UniqueFd open_locked(const std::string& path, int& open_errno, struct stat& st) {
    for (;;) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) {
            open_errno = errno;
            return fd;
        }
        lock(fd.get(), path);
        st = stat_of(fd.get(), path);
        if (st.st_nlink > 0) return fd;
    }
}

// A state file opened just now, read from its start.
std::string read_all(int fd, const std::string& path) {
    std::string content;
    if (!text::read_fd(fd, content)) throw Error("read " + path, errno);
    return content;
}

// The state file goes last: whatever a crash leaves is found through it.
void unlink_all(const std::string& path, ino_t inode, const std::string& fifo_path) {
    if (!fifo_path.empty()) ::unlink(fifo_path.c_str());
    ::unlink(replacement_path(path, inode).c_str());
    ::unlink(path.c_str());
}

std::string random_suffix() {
    uint64_t bits = 0;
    if (::getrandom(&bits, sizeof bits, 0) != ssize_t(sizeof bits)) throw Error("getrandom", errno);
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
    return text;
}

}  // namespace

StateFile StateFile::create(const std::string& root, const std::string& id) {
    validate_id(id);
    std::string path = root + "/" + id;
    constexpr int kCreateFlags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    UniqueFd fd(::open(path.c_str(), kCreateFlags, 0600));
    if (!fd && errno == ENOENT) {  // the first container under this root
        make_dirs(root, 0700);
        fd.reset(::open(path.c_str(), kCreateFlags, 0600));
    }
    if (!fd) {
        if (errno == EEXIST)
            throw Error("container with id exists: " + id, 0, "pick another ID, or `crun-lite delete " + id + "` the old one first");
        throw Error("create " + path, errno);
    }
    StateFile file(path, std::move(fd));
    file.remove_on_destroy_ = true;
    lock(file.fd_.get(), path);
    // A `delete --force` of this ID that came between the open and the lock took the empty
    // file for what a killed create leaves, and removed it; the name may be another's by now.
    if (stat_of(file.fd_.get(), path).st_nlink == 0) {
        file.remove_on_destroy_ = false;
        throw Error("container " + id + " was deleted while it was being created");
    }
    return file;
}

// The container's state file, locked, or `container "ID" does not exist`.
StateFile StateFile::lock_existing(const std::string& root, const std::string& id) {
    std::string path = root + "/" + id;
    int open_errno = 0;
    struct stat st{};
    UniqueFd fd = open_locked(path, open_errno, st);
    if (!fd) {
        if (open_errno == ENOENT) throw NotFoundError(id);
        throw Error("open " + path, open_errno,
                    open_errno == EISDIR ? "a directory here is the state of a crun-lite from before the state became one file" : "");
    }
    return StateFile(path, std::move(fd));
}

StateFile StateFile::open(const std::string& root, const std::string& id) {
    validate_id(id);
    StateFile file = lock_existing(root, id);
    // Empty: what a create killed between making the file and writing it leaves.
    std::string content = read_all(file.fd_.get(), file.path_);
    if (content.empty()) throw NotFoundError(id);
    std::istringstream in(content);
    file.record_ = read_record(in, id);
    return file;
}

StateFile StateFile::reopen(const std::string& root, const Record& record) {
    StateFile file = lock_existing(root, record.id);  // NotFoundError: deleted meanwhile
    // And perhaps made anew by a `delete --force` and a `create` from elsewhere, which an inode
    // number does not tell (ext4 hands a freed one out again within the second): the creation
    // time, to the nanosecond, does, without parsing the record.
    std::string content = read_all(file.fd_.get(), file.path_);
    if (content.find("\"created\":\"" + record.created + "\"") == std::string::npos) throw NotFoundError(record.id);
    file.record_ = record;
    return file;
}

void StateFile::remove_unrecorded(const std::string& root, const std::string& id) {
    validate_id(id);
    std::string path = root + "/" + id;
    int open_errno = 0;
    struct stat st{};
    UniqueFd fd = open_locked(path, open_errno, st);
    if (!fd) return;
    if (st.st_size > 0) return;  // recorded after all: not ours to remove
    unlink_all(path, st.st_ino, "");  // no fifo: it is made after the first save
}

StateFile::~StateFile() {
    if (remove_on_destroy_ && fd_) remove();
}

void StateFile::save(const Record& record) {
    std::string content = record_to_json(record).dump();
    struct stat st = stat_of(fd_.get(), path_);
    // Every reader and writer holds the lock, so the file is rewritten in place, with no new
    // inode. Shorter content is padded with spaces, which JSON allows, so one write does.
    if (content.size() <= kInPlaceLimit && size_t(st.st_size) <= kInPlaceLimit) {
        if (content.size() < size_t(st.st_size)) content.append(size_t(st.st_size) - content.size(), ' ');
        if (::pwrite(fd_.get(), content.data(), content.size(), 0) != ssize_t(content.size()))
            throw Error("write " + path_, errno);
    } else {
        replace_whole(content);
    }
    record_ = record;
}

// Content past one page could be cut short by a SIGKILL, leaving neither the old record nor the
// new: it is written to a file of its own, locked before it takes the state file's name.
// Commands waiting for the old file's lock then find it unlinked and wait for this one's.
void StateFile::replace_whole(const std::string& content) {
    std::string next = replacement_path(path_, stat_of(fd_.get(), path_).st_ino);
    ::unlink(next.c_str());  // what a save killed half-way left; never written through
    UniqueFd fd(::open(next.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) throw Error("create " + next, errno);
    try {
        lock(fd.get(), next);
        if (!text::write_all(fd.get(), content)) throw Error("write " + next, errno);
        if (::rename(next.c_str(), path_.c_str()) != 0) throw Error("rename " + next + " to " + path_, errno);
    } catch (...) {
        ::unlink(next.c_str());
        throw;
    }
    fd_ = std::move(fd);  // closing the old, unlinked file releases its lock
}

// The fifo is named in the record, and the record saved, before the fifo is made: a create
// killed at any point leaves no fifo that its state does not name. The name is random, as
// mkstemp picks one, since an ID may be NAME_MAX long and leave no room for a suffix.
void StateFile::make_exec_fifo(Record& record) {
    for (int attempt = 0;; ++attempt) {
        record.exec_fifo = ":exec.fifo." + random_suffix();
        save(record);
        if (::mkfifo(fifo_path().c_str(), 0622) == 0) break;
        if (errno != EEXIST || attempt == 100) throw Error("mkfifo " + fifo_path(), errno);
    }
    // Writable by whichever uid the container process ends up with (the umask narrowed it).
    if (::chmod(fifo_path().c_str(), 0622) != 0) throw Error("chmod " + fifo_path(), errno);
}

std::string StateFile::fifo_path() const {
    return record_.exec_fifo.empty() ? std::string() : root_of(path_) + "/" + record_.exec_fifo;
}

void StateFile::remove() {
    if (!fd_) return;
    struct stat st{};  // no throw: the destructor of a failed create comes here
    ::fstat(fd_.get(), &st);
    unlink_all(path_, st.st_ino, fifo_path());
    remove_on_destroy_ = false;
}

Status StateFile::status() const {
    auto start_time = live_process_start_time(record_.pid);
    if (!start_time || *start_time != record_.pid_start_time) return Status::stopped;
    if (!record_.exec_fifo.empty() && ::access(fifo_path().c_str(), F_OK) == 0) return Status::created;
    if (cgroups::is_frozen(record_.cgroup_dirs)) return Status::paused;
    return Status::running;
}

nlohmann::json StateFile::state_json() const {
    Status st = status();
    nlohmann::json out = {
        {"ociVersion", record_.oci_version},
        {"id", record_.id},
        {"pid", st == Status::stopped ? 0 : record_.pid},
        {"status", status_name(st)},
        {"bundle", record_.bundle},
        {"rootfs", record_.rootfs},
        {"created", record_.created},
        {"owner", record_.owner},
    };
    if (!record_.annotations.empty()) out["annotations"] = record_.annotations;
    return out;
}

std::vector<std::string> list_ids(const std::string& root) {
    std::vector<std::string> ids;
    DIR* dir = ::opendir(root.c_str());
    if (!dir) {
        if (errno == ENOENT) return ids;
        throw Error("open " + root, errno);
    }
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name.find(':') != std::string::npos) continue;  // a fifo or a replacement, not a container
        struct stat st{};
        bool is_file = entry->d_type == DT_REG ||
                       (entry->d_type == DT_UNKNOWN && ::lstat((root + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode));
        if (is_file) ids.push_back(name);
    }
    ::closedir(dir);
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace crunlite::state
