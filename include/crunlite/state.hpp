// Container state on disk: one file, <root>/<id> (0600), holds the state JSON and is the
// container's lock: every command on one ID holds an exclusive flock on it. Until `start`, a
// created container also has a fifo, <root>/:exec.fifo.<random>, named in its record. IDs never
// hold ':', so these names cannot collide with a container's.
#pragma once
#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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
    std::string systemd_unit;  // --systemd-cgroup: the unit holding the cgroup ("docker-<id>.scope")
    bool systemd_user = false;  // ... a unit of the user's systemd (a rootless create), not the host's
    nlohmann::json hooks = nlohmann::json::object();  // the config's hooks, for poststart/poststop
    bool has_process = true;  // false: config.json had no process, and `start` must refuse
    std::string exec_fifo;    // a created container's fifo, a name under the root; empty for `run`
    // linux.intelRdt: the resctrl group (CLOS) and monitoring group the container's processes
    // join, absolute paths ("" when none), and whether create made them (delete removes those).
    std::string resctrl_group, resctrl_mon_group;
    bool resctrl_made_group = false, resctrl_made_mon_group = false;
    // No mount namespace of its own: the mount of ours at `rootfs` in the host's namespace
    // (runtime/host_root.hpp) that `delete` detaches; its mountinfo id and its never-reused id.
    uint64_t host_root_mount_id = 0;
    uint64_t host_root_unique_id = 0;
};

nlohmann::json record_to_json(const Record& record);
Record record_from_json(const nlohmann::json& json);
// A state file as StateFile::open reads it: JSON, then record_from_json. Throws
// Error("container \"ID\" does not exist (its state file is unreadable)") for anything else.
Record read_record(std::istream& in, const std::string& id);

// ":exec.fifo." and 16 lowercase hex digits, the name StateFile::make_exec_fifo gives a fifo.
bool is_exec_fifo_name(std::string_view name);

// Throws unless `id` is in runc's allowed set: [A-Za-z0-9_+\-.]+, not "." or "..".
void validate_id(const std::string& id);

// Reads /proc/<pid>/stat: start time in clock ticks, or nullopt when the pid is gone or a zombie.
std::optional<uint64_t> live_process_start_time(int pid);

class StateFile {
public:
    // Creates <root>/<id>, empty, and locks it; it is removed on destruction unless keep() is called.
    static StateFile create(const std::string& root, const std::string& id);
    // Locks an existing container; throws `container "ID" does not exist`.
    static StateFile open(const std::string& root, const std::string& id);

    // Locks a container this process has just created, taking `record` as its state: only
    // create writes the state, so `run` need not read back what it wrote. Throws
    // `container "ID" does not exist` when it was deleted meanwhile, also when another
    // container of that ID has taken its place (its state has another creation time).
    static StateFile reopen(const std::string& root, const Record& record);

    // Removes <root>/<id> when it is empty (a create killed before it recorded anything), under
    // its lock so a create still at work is never disturbed.
    static void remove_unrecorded(const std::string& root, const std::string& id);

    StateFile(StateFile&&) = default;
    StateFile& operator=(StateFile&&) = default;
    ~StateFile();

    const std::string& path() const { return path_; }
    const Record& record() const { return record_; }
    // Only on a file this process created: the others are opened read-only.
    void save(const Record& record);
    // Saves `record`, naming in its exec_fifo the fifo that `start` opens, then makes the fifo.
    void make_exec_fifo(Record& record);
    // The fifo's path while the record names one, otherwise "".
    std::string fifo_path() const;
    Status status() const;
    // The runtime-spec state object with runc's extra fields (rootfs, created, owner).
    nlohmann::json state_json() const;

    void keep() { remove_on_destroy_ = false; }
    void remove();  // the state file, the fifo and an unfinished replacement

private:
    StateFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    static StateFile lock_existing(const std::string& root, const std::string& id);
    void replace_whole(const std::string& content);
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
