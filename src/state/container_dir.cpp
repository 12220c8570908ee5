#include <climits>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/state.hpp"
#include "util/text.hpp"

namespace crunlite::state {
namespace {

void make_dirs(const std::string& path, mode_t mode) {
    std::string partial = path.empty() || path[0] != '/' ? "." : "";
    for (std::string_view part : text::split(path, '/')) {
        partial += '/';
        partial += part;
        if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) throw Error("mkdir " + partial, errno);
    }
}

UniqueFd lock_directory(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fd;
    while (::flock(fd.get(), LOCK_EX) != 0)
        if (errno != EINTR) throw Error("lock " + path, errno);
    return fd;
}

void remove_tree_at(int dirfd) {
    UniqueFd dup_fd(::dup(dirfd));
    DIR* dir = ::fdopendir(dup_fd.release());
    if (!dir) return;
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        struct stat st{};
        bool is_dir = entry->d_type == DT_DIR ||
                      (entry->d_type == DT_UNKNOWN && ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
        if (is_dir) {
            UniqueFd child(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (child) remove_tree_at(child.get());
            ::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR);
        } else {
            ::unlinkat(dirfd, name.c_str(), 0);
        }
    }
    ::closedir(dir);
}

// nlohmann converts a float to an integer type with a plain cast, undefined behaviour when the
// value does not fit ("pid": 1e300): a record's numbers must be integers within their type.
template <typename T>
T integer_member(const nlohmann::json& j, const char* key) {
    const nlohmann::json& v = j.at(key);
    bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max())
                : v.is_number_integer() && v.get<int64_t>() >= int64_t(std::numeric_limits<T>::min()) &&
                      (std::is_unsigned_v<T> || v.get<int64_t>() <= int64_t(std::numeric_limits<T>::max()));
    if (!fits) throw nlohmann::json::type_error::create(302, std::string(key) + " must be an integer that fits its type", &v);
    return v.get<T>();
}

}  // namespace

const char* status_name(Status status) {
    switch (status) {
        case Status::creating: return "creating";
        case Status::created: return "created";
        case Status::running: return "running";
        case Status::paused: return "paused";
        case Status::stopped: return "stopped";
    }
    return "unknown";
}

void validate_id(const std::string& id) {
    auto allowed = [](char c) { return isalnum((unsigned char)c) || c == '_' || c == '+' || c == '-' || c == '.'; };
    // The ID names the state directory and the cgroup directories: one path component.
    if (id.size() > NAME_MAX)
        throw Error("invalid container ID: " + std::to_string(id.size()) + " characters, at most " + std::to_string(NAME_MAX) +
                    " (it names a directory)");
    if (id.empty() || id == "." || id == ".." || !std::all_of(id.begin(), id.end(), allowed))
        throw Error("invalid container ID " + nlohmann::json(id).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) +
                    ": only letters, digits and _ + - . are allowed");
}

std::optional<uint64_t> live_process_start_time(int pid) {
    if (pid <= 0) return std::nullopt;
    std::string stat;
    if (!text::read_file("/proc/" + std::to_string(pid) + "/stat", stat) || stat.empty()) return std::nullopt;
    auto close_paren = stat.rfind(')');  // the command name may itself hold spaces and ')'
    if (close_paren == std::string::npos || close_paren + 2 > stat.size()) return std::nullopt;
    std::vector<std::string_view> fields = text::split(std::string_view(stat).substr(close_paren + 2), ' ');
    // fields[0] is field 3 (the state), fields[19] field 22 (the start time)
    if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X") return std::nullopt;
    uint64_t start_time = 0;
    for (char c : fields[19]) {
        if (c < '0' || c > '9') break;
        start_time = start_time * 10 + uint64_t(c - '0');
    }
    return start_time;
}

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

nlohmann::json record_to_json(const Record& r) {
    return {{"id", r.id},           {"pid", r.pid},         {"pid_start_time", r.pid_start_time},
            {"bundle", r.bundle},   {"rootfs", r.rootfs},   {"created", r.created},
            {"owner", r.owner},     {"oci_version", r.oci_version}, {"annotations", r.annotations},
            {"cgroup_dirs", r.cgroup_dirs}, {"hooks", r.hooks}, {"has_process", r.has_process}};
}

Record record_from_json(const nlohmann::json& j) {
    Record r;
    r.id = j.at("id").get<std::string>();
    r.pid = integer_member<int>(j, "pid");
    r.pid_start_time = integer_member<uint64_t>(j, "pid_start_time");
    r.bundle = j.at("bundle").get<std::string>();
    r.rootfs = j.at("rootfs").get<std::string>();
    r.created = j.at("created").get<std::string>();
    r.owner = j.value("owner", "");
    r.oci_version = j.value("oci_version", "");
    r.annotations = j.value("annotations", std::map<std::string, std::string>{});
    r.cgroup_dirs = j.value("cgroup_dirs", std::vector<std::string>{});
    r.hooks = j.value("hooks", nlohmann::json::object());
    r.has_process = j.value("has_process", true);
    return r;
}

Record read_record(std::istream& in, const std::string& id) {
    try {
        nlohmann::json json;
        in >> json;
        return record_from_json(json);
    } catch (const nlohmann::json::exception&) {
        throw Error("container \"" + id + "\" does not exist (its state file is unreadable)");
    }
}

ContainerDir ContainerDir::create(const std::string& root, const std::string& id) {
    validate_id(id);
    std::string path = root + "/" + id;
    int made = ::mkdir(path.c_str(), 0700);
    if (made != 0 && errno == ENOENT) {  // the first container under this root
        make_dirs(root, 0700);
        made = ::mkdir(path.c_str(), 0700);
    }
    if (made != 0) {
        if (errno == EEXIST)
            throw Error("container with id exists: " + id, 0, "pick another ID, or `crun-lite delete " + id + "` the old one first");
        throw Error("mkdir " + path, errno);
    }
    UniqueFd fd = lock_directory(path);
    if (!fd) {
        int err = errno;
        ::rmdir(path.c_str());
        throw Error("open " + path, err);
    }
    ContainerDir dir(path, std::move(fd));
    dir.remove_on_destroy_ = true;
    return dir;
}

ContainerDir ContainerDir::open(const std::string& root, const std::string& id) {
    validate_id(id);
    std::string path = root + "/" + id;
    UniqueFd fd = lock_directory(path);
    if (!fd) {
        if (errno == ENOENT) throw NotFoundError(id);
        throw Error("open " + path, errno);
    }
    // A concurrent delete may have removed it while we waited for the lock; an empty one is
    // what a create killed between creating and writing it leaves.
    std::ifstream in(path + "/state.json");
    if (!in || in.peek() == std::ifstream::traits_type::eof()) throw NotFoundError(id);
    ContainerDir dir(path, std::move(fd));
    dir.record_ = read_record(in, id);
    return dir;
}

ContainerDir ContainerDir::reopen(const std::string& root, const Record& record) {
    std::string path = root + "/" + record.id;
    UniqueFd fd = lock_directory(path);
    if (!fd) {
        if (errno == ENOENT) throw NotFoundError(record.id);
        throw Error("open " + path, errno);
    }
    struct stat st{};
    if (::fstatat(fd.get(), "state.json", &st, 0) != 0) throw NotFoundError(record.id);  // deleted meanwhile
    ContainerDir dir(path, std::move(fd));
    dir.record_ = record;
    return dir;
}

void ContainerDir::remove_unrecorded(const std::string& root, const std::string& id) {
    validate_id(id);
    std::string path = root + "/" + id;
    UniqueFd fd = lock_directory(path);
    if (!fd) return;
    struct stat st{};
    if (::fstatat(fd.get(), "state.json", &st, 0) == 0 && st.st_size > 0) return;  // recorded after all: not ours to remove
    remove_tree_at(fd.get());
    ::rmdir(path.c_str());
}

ContainerDir::~ContainerDir() {
    if (remove_on_destroy_ && fd_) remove();
}

namespace {

// One page: a write within it is never cut short by a signal, so it lands whole or not at all.
constexpr size_t kInPlaceLimit = 4096;

}  // namespace

void ContainerDir::save(const Record& record) {
    std::string content = record_to_json(record).dump();
    // Every reader and writer of state.json holds the directory's lock (open, create, reopen),
    // so it may be rewritten in place: no new inode per save, which on a journal-less ext4
    // (this project's /run) costs a scan of every recently deleted inode of the group.
    // Shorter content is padded with spaces, which JSON allows, so one write does.
    if (content.size() <= kInPlaceLimit) {
        UniqueFd file(::openat(fd_.get(), "state.json", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
        struct stat st{};
        if (file && ::fstat(file.get(), &st) == 0 && S_ISREG(st.st_mode) && size_t(st.st_size) <= kInPlaceLimit) {
            if (content.size() < size_t(st.st_size)) content.append(size_t(st.st_size) - content.size(), ' ');
            if (::pwrite(file.get(), content.data(), content.size(), 0) != ssize_t(content.size()))
                throw Error("write " + path_ + "/state.json", errno);
            record_ = record;
            return;
        }
    }
    write_file_atomically(path_ + "/state.json", content, 0600);
    record_ = record;
}

void ContainerDir::remove() {
    if (!fd_) return;
    remove_tree_at(fd_.get());
    ::rmdir(path_.c_str());
    remove_on_destroy_ = false;
}

Status ContainerDir::status() const {
    auto start_time = live_process_start_time(record_.pid);
    if (!start_time || *start_time != record_.pid_start_time) return Status::stopped;
    if (::access(fifo_path().c_str(), F_OK) == 0) return Status::created;
    if (cgroups::is_frozen(record_.cgroup_dirs)) return Status::paused;
    return Status::running;
}

nlohmann::json ContainerDir::state_json() const {
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
        struct stat st{};
        bool is_dir = entry->d_type == DT_DIR ||
                      (entry->d_type == DT_UNKNOWN && ::stat((root + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode));
        if (name == "." || name == ".." || !is_dir) continue;
        ids.push_back(name);
    }
    ::closedir(dir);
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace crunlite::state
