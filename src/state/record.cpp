// A container's Record and its JSON form, the ID rule and the liveness of its init process.
#include <climits>

#include <algorithm>
#include <limits>

#include "crunlite/error.hpp"
#include "crunlite/state.hpp"
#include "util/text.hpp"

namespace crunlite::state {
namespace {

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

bool is_exec_fifo_name(std::string_view name) {
    constexpr std::string_view kPrefix = ":exec.fifo.";
    if (name.size() != kPrefix.size() + 16 || name.substr(0, kPrefix.size()) != kPrefix) return false;
    return std::all_of(name.begin() + kPrefix.size(), name.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

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
    // The ID names the state file and the cgroup directories: one path component.
    if (id.size() > NAME_MAX)
        throw Error("invalid container ID: " + std::to_string(id.size()) + " characters, at most " + std::to_string(NAME_MAX) +
                    " (it names a file)");
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

nlohmann::json record_to_json(const Record& r) {
    return {{"id", r.id},           {"pid", r.pid},         {"pid_start_time", r.pid_start_time},
            {"bundle", r.bundle},   {"rootfs", r.rootfs},   {"created", r.created},
            {"owner", r.owner},     {"oci_version", r.oci_version}, {"annotations", r.annotations},
            {"cgroup_dirs", r.cgroup_dirs}, {"hooks", r.hooks}, {"has_process", r.has_process},
            {"exec_fifo", r.exec_fifo}, {"systemd_unit", r.systemd_unit}, {"systemd_user", r.systemd_user},
            {"resctrl", {{"group", r.resctrl_group}, {"mon_group", r.resctrl_mon_group},
                         {"made_group", r.resctrl_made_group}, {"made_mon_group", r.resctrl_made_mon_group}}},
            {"host_root_mount_id", r.host_root_mount_id}, {"host_root_unique_id", r.host_root_unique_id}};
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
    r.exec_fifo = j.value("exec_fifo", "");
    r.systemd_unit = j.value("systemd_unit", "");
    r.systemd_user = j.value("systemd_user", false);
    if (auto rdt = j.find("resctrl"); rdt != j.end() && rdt->is_object()) {
        r.resctrl_group = rdt->value("group", "");
        r.resctrl_mon_group = rdt->value("mon_group", "");
        r.resctrl_made_group = rdt->value("made_group", false);
        r.resctrl_made_mon_group = rdt->value("made_mon_group", false);
        // Directories that delete may remove: absolute, without a ".." to lead elsewhere.
        for (const std::string* dir : {&r.resctrl_group, &r.resctrl_mon_group})
            if (!dir->empty() && ((*dir)[0] != '/' || dir->find("/..") != std::string::npos))
                throw nlohmann::json::type_error::create(302, "resctrl directories must be absolute paths without \"..\"", &j);
    }
    if (j.contains("host_root_mount_id")) r.host_root_mount_id = integer_member<uint64_t>(j, "host_root_mount_id");
    if (j.contains("host_root_unique_id")) r.host_root_unique_id = integer_member<uint64_t>(j, "host_root_unique_id");
    // Exactly a name make_exec_fifo gives: never a path that leads elsewhere, nor another file
    // of the root that `delete` would then remove.
    if (!r.exec_fifo.empty() && !is_exec_fifo_name(r.exec_fifo))
        throw nlohmann::json::type_error::create(302, "exec_fifo must be a name \":exec.fifo.<16 hex digits>\"", &j);
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

}  // namespace crunlite::state
