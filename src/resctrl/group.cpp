#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"
#include "resctrl/resctrl.hpp"
#include "sys/mount_info.hpp"
#include "util/text.hpp"

namespace crunlite::resctrl {
namespace {

constexpr const char* kRdt = ".linux.intelRdt";

bool is_dir(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string as_json_text(std::string_view text) {
    return nlohmann::json(std::string(text)).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

std::string trim(std::string_view s) {
    size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

// "L3:0=7f0;1=1f" -> {"L3", {"0": "7f0", "1": "1f"}}; a bit mask is kept as its number, so that
// "0ff" and "ff" are the same (the kernel shows masks without leading zeros); bandwidths ("MB")
// are decimal and kept as written.
std::pair<std::string, std::map<std::string, std::string>> parse_line(std::string_view line) {
    std::pair<std::string, std::map<std::string, std::string>> out;
    auto colon = line.find(':');
    out.first = trim(line.substr(0, colon));
    if (colon == std::string_view::npos) return out;
    bool masks = out.first.rfind("MB", 0) != 0;
    for (std::string_view part : text::split(line.substr(colon + 1), ';')) {
        auto eq = part.find('=');
        if (eq == std::string_view::npos) continue;
        std::string key = trim(part.substr(0, eq)), value = trim(part.substr(eq + 1));
        if (masks && !value.empty()) {
            char* end = nullptr;
            unsigned long long n = std::strtoull(value.c_str(), &end, 16);
            if (end && *end == '\0') value = std::to_string(n);
        }
        out.second[key] = value;
    }
    return out;
}

void write_text(const std::string& path, const std::string& content, const std::string& json_path, const std::string& root) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw Error(JsonPath{json_path}, "open " + path, errno);
    if (!text::write_all(fd.get(), content)) {
        int err = errno;
        // The kernel says in info/last_cmd_status which part of a schemata it refused.
        std::string status;
        if (!root.empty() && text::read_file(root + "/info/last_cmd_status", status)) status = trim(std::string(text::split(status, '\n').at(0)));
        throw Error(JsonPath{json_path}, "write " + as_json_text(content) + " to " + path + (status.empty() ? "" : " (resctrl says: " + status + ")"), err);
    }
}

void write_pid(const std::string& dir, int pid) { write_text(dir + "/tasks", std::to_string(pid), kRdt, ""); }

}  // namespace

std::string find_root(std::string_view mountinfo) {
    for (std::string_view line : text::split(mountinfo, '\n')) {
        std::optional<sys::MountinfoLine> parsed = sys::parse_mountinfo_line(line);
        if (parsed && parsed->fstype == "resctrl") return parsed->mount_point;
    }
    return "";
}

std::string find_root() {
    std::string mountinfo;
    if (!text::read_file("/proc/self/mountinfo", mountinfo, size_t(256) << 20)) throw Error("read /proc/self/mountinfo", errno);
    return find_root(mountinfo);
}

std::string schemata_text(const spec::IntelRdt& rdt) {
    std::string out;
    for (std::string_view line : text::split(rdt.l3_cache_schema, '\n')) {
        // config-linux.md: with memBwSchema set, an "MB:" line of l3CacheSchema gives way to it.
        if (line.empty() || (!rdt.mem_bw_schema.empty() && line.rfind("MB:", 0) == 0)) continue;
        out += std::string(line) + "\n";
    }
    if (!rdt.mem_bw_schema.empty()) out += rdt.mem_bw_schema + "\n";
    for (auto& line : rdt.schemata) out += line + "\n";
    return out;
}

bool schemata_match(std::string_view existing, std::string_view wanted) {
    std::map<std::string, std::map<std::string, std::string>> have;
    for (std::string_view line : text::split(existing, '\n'))
        if (!trim(line).empty()) have.insert(parse_line(line));
    for (std::string_view line : text::split(wanted, '\n')) {
        if (trim(line).empty()) continue;
        auto [resource, domains] = parse_line(line);
        auto it = have.find(resource);
        if (it == have.end() || it->second != domains) return false;
    }
    return true;
}

GroupPlan plan_group(const spec::IntelRdt& rdt, const std::string& container_id, const std::string& root) {
    if (root.empty())
        throw Error(JsonPath{kRdt}, "no resctrl filesystem is mounted, and the runtime-spec makes intelRdt an error then", 0,
                    "on a host with Intel RDT or AMD PQoS: mount -t resctrl resctrl /sys/fs/resctrl; otherwise remove .linux.intelRdt");
    GroupPlan plan;
    plan.group_dir = rdt.clos_id == "/" ? root : root + "/" + (rdt.clos_id.empty() ? container_id : rdt.clos_id);
    std::string wanted = schemata_text(rdt);
    if (!is_dir(plan.group_dir)) {
        if (!rdt.clos_id.empty() && wanted.empty())
            throw Error(JsonPath{std::string(kRdt) + ".closID"},
                        "no CLOS " + as_json_text(rdt.clos_id) + " in " + root + ": a closID without schemata joins an existing group", 0,
                        "create the group first (mkdir " + plan.group_dir + ", then write its schemata), or give "
                        "l3CacheSchema, memBwSchema or schemata to have it made");
        plan.make_group = true;
        plan.schemata = wanted;
    } else if (!wanted.empty()) {
        // An existing group is shared with others: its schemata are compared, never rewritten.
        std::string existing;
        if (!text::read_file(plan.group_dir + "/schemata", existing)) throw Error(JsonPath{kRdt}, "read " + plan.group_dir + "/schemata", errno);
        if (!schemata_match(existing, wanted))
            throw Error(JsonPath{kRdt}, "the CLOS " + plan.group_dir + " exists with other schemata (" + as_json_text(existing) + ") than the config's (" +
                                            as_json_text(wanted) + ")", 0,
                        "give the schemata that group has, or another closID");
    }
    if (rdt.enable_monitoring) {
        // Every group of a resctrl with monitoring has mon_groups, the root's too.
        std::string parent = (plan.make_group ? root : plan.group_dir) + "/mon_groups";
        if (!is_dir(parent))
            throw Error(JsonPath{std::string(kRdt) + ".enableMonitoring"},
                        "this resctrl filesystem has no monitoring groups (no " + parent + "): the CPU or the kernel has no RDT monitoring", 0,
                        "remove enableMonitoring");
        plan.mon_dir = plan.group_dir + "/mon_groups/" + container_id;
    }
    return plan;
}

int DirOps::default_make(const std::string& path) { return ::mkdir(path.c_str(), 0755); }
int DirOps::default_remove(const std::string& path) { return ::rmdir(path.c_str()); }

Group::Group(const GroupPlan& plan, int pid, DirOps ops) : ops_(std::move(ops)) {
    placement_.group_dir = plan.group_dir;
    placement_.mon_dir = plan.mon_dir;
    try {
        if (plan.make_group) {
            if (ops_.make(plan.group_dir) == 0) placement_.made_group = true;
            else if (errno != EEXIST)  // made meanwhile by another container of the same closID: joined
                throw Error(JsonPath{kRdt}, "mkdir " + plan.group_dir, errno,
                            errno == ENOSPC ? "every CLOS of the hardware is in use: share one by closID" : "");
            if (placement_.made_group && !plan.schemata.empty())
                write_text(plan.group_dir + "/schemata", plan.schemata, kRdt, plan.group_dir.substr(0, plan.group_dir.rfind('/')));
        }
        write_pid(plan.group_dir, pid);
        if (!plan.mon_dir.empty()) {
            if (ops_.make(plan.mon_dir) == 0) placement_.made_mon = true;
            else if (errno != EEXIST) throw Error(JsonPath{std::string(kRdt) + ".enableMonitoring"}, "mkdir " + plan.mon_dir, errno);
            // A monitoring group takes only tasks of its parent group: that write came first.
            write_pid(plan.mon_dir, pid);
        }
    } catch (...) {
        try {
            remove(placement_, ops_);
        } catch (const Error&) {
        }
        throw;
    }
}

Group::~Group() {
    if (kept_) return;
    try {
        remove(placement_, ops_);
    } catch (const Error&) {
    }
}

void join(const Placement& placement, int pid) {
    if (placement.group_dir.empty()) return;
    write_pid(placement.group_dir, pid);
    if (!placement.mon_dir.empty()) write_pid(placement.mon_dir, pid);
}

void remove(const Placement& placement, const DirOps& ops) {
    // A resctrl rmdir hands the group's tasks back to its parent: nothing needs to be empty.
    if (placement.made_mon && ops.remove(placement.mon_dir) != 0 && errno != ENOENT) throw Error("rmdir " + placement.mon_dir, errno);
    if (placement.made_group && ops.remove(placement.group_dir) != 0 && errno != ENOENT) throw Error("rmdir " + placement.group_dir, errno);
}

}  // namespace crunlite::resctrl
