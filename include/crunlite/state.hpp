// Container state on disk: <root>/<id>/ (0700) holds state.json and, until `start`,
// exec.fifo. Every command on one ID holds an exclusive flock on that directory.
#pragma once
#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crunlite/unique_fd.hpp"

namespace crunlite::state {

enum class Status { creating, created, running, paused, stopped };
const char* status_name(Status status);

// What the runtime remembers about a container between commands.
struct Record {
    std::string id;
    int pid = 0;
    uint64_t pid_start_time = 0;  // guards against a recycled pid
    std::string bundle;
    std::string rootfs;
    std::string created;  // RFC 3339, nanoseconds
    std::string owner;
    std::string oci_version;
    std::map<std::string, std::string> annotations;
    std::vector<std::string> cgroup_dirs;  // absolute host paths, one per hierarchy
    nlohmann::json hooks = nlohmann::json::object();  // the config's hooks, for poststart/poststop
    bool has_process = true;  // false: config.json had no process, and `start` must refuse
};

nlohmann::json record_to_json(const Record& record);
Record record_from_json(const nlohmann::json& json);
// A state.json as ContainerDir::open reads it: JSON, then record_from_json. Throws
// Error("container \"ID\" does not exist (its state file is unreadable)") for anything else.
Record read_record(std::istream& in, const std::string& id);

// Throws unless `id` is in runc's allowed set: [A-Za-z0-9_+\-.]+, not "." or "..".
void validate_id(const std::string& id);

// Reads /proc/<pid>/stat: start time in clock ticks, or nullopt when the pid is gone or a zombie.
std::optional<uint64_t> live_process_start_time(int pid);

class ContainerDir {
public:
    // mkdir <root>/<id> and lock it; the directory is removed on destruction unless keep() is called.
    static ContainerDir create(const std::string& root, const std::string& id);
    // Lock an existing container; throws `container "ID" does not exist`.
    static ContainerDir open(const std::string& root, const std::string& id);

    // Locks a container this process has just created, taking `record` as its state: only
    // create writes state.json, so `run` need not read back what it wrote. Throws
    // `container "ID" does not exist` when it was deleted meanwhile.
    static ContainerDir reopen(const std::string& root, const Record& record);

    // Removes <root>/<id> when it holds no state file, or an empty one (a create killed before
    // it wrote one), under the directory's lock so a create still at work is never disturbed.
    static void remove_unrecorded(const std::string& root, const std::string& id);

    ContainerDir(ContainerDir&&) = default;
    ContainerDir& operator=(ContainerDir&&) = default;
    ~ContainerDir();

    const std::string& path() const { return path_; }
    std::string fifo_path() const { return path_ + "/exec.fifo"; }
    const Record& record() const { return record_; }
    void save(const Record& record);
    Status status() const;
    // The runtime-spec state object with runc's extra fields (rootfs, created, owner).
    nlohmann::json state_json() const;

    void keep() { remove_on_destroy_ = false; }
    void remove();  // delete the directory and all it holds

private:
    ContainerDir(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    UniqueFd fd_;
    Record record_;
    bool remove_on_destroy_ = false;
};

// IDs under root, sorted; an absent root is an empty list.
std::vector<std::string> list_ids(const std::string& root);

// Writes `content` to `path` through a temporary file and rename(2).
void write_file_atomically(const std::string& path, const std::string& content, unsigned mode = 0644);

}  // namespace crunlite::state
