// Statistics of a container's cgroups in the shape of runc's `events` data (types/events.go):
// read from whichever of a container's directories holds each controller's files.
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "crunlite/cgroups.hpp"

namespace crunlite::cgroups {
namespace {

// The first directory that has `file`.
std::string find_file(const std::vector<std::string>& dirs, const std::string& file) {
    for (auto& dir : dirs)
        if (::access((dir + "/" + file).c_str(), R_OK) == 0) return dir + "/" + file;
    return "";
}

std::optional<uint64_t> read_number(const std::vector<std::string>& dirs, const std::string& file) {
    std::string path = find_file(dirs, file);
    if (path.empty()) return std::nullopt;
    std::ifstream in(path);
    std::string word;
    if (!(in >> word)) return std::nullopt;
    if (word == "max") return UINT64_MAX;
    try {
        return std::stoull(word);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::vector<uint64_t> read_numbers(const std::vector<std::string>& dirs, const std::string& file) {
    std::vector<uint64_t> out;
    std::string path = find_file(dirs, file);
    if (path.empty()) return out;
    std::ifstream in(path);
    for (uint64_t v; in >> v;) out.push_back(v);
    return out;
}

// "key value" lines (memory.stat, cpu.stat, memory.events...).
std::map<std::string, uint64_t> read_keyed(const std::vector<std::string>& dirs, const std::string& file) {
    std::map<std::string, uint64_t> out;
    std::string path = find_file(dirs, file);
    if (path.empty()) return out;
    std::ifstream in(path);
    std::string key;
    uint64_t value;
    while (in >> key >> value) out[key] = value;
    return out;
}

nlohmann::json usage(std::optional<uint64_t> limit, std::optional<uint64_t> current, std::optional<uint64_t> max,
                     std::optional<uint64_t> failcnt) {
    nlohmann::json j = nlohmann::json::object();
    if (limit) j["limit"] = *limit;
    if (current) j["usage"] = *current;
    if (max) j["max"] = *max;
    if (failcnt) j["failcnt"] = *failcnt;
    return j;
}

}  // namespace

nlohmann::json stats(const std::vector<std::string>& dirs) {
    nlohmann::json data = nlohmann::json::object();

    nlohmann::json cpu = nlohmann::json::object();
    auto cpu_stat = read_keyed(dirs, "cpu.stat");
    if (auto total = read_number(dirs, "cpuacct.usage")) {  // v1: nanoseconds
        cpu["usage"]["total"] = *total;
        cpu["usage"]["percpu"] = read_numbers(dirs, "cpuacct.usage_percpu");
        auto ticks = read_keyed(dirs, "cpuacct.stat");  // USER_HZ ticks
        long hz = ::sysconf(_SC_CLK_TCK);
        cpu["usage"]["user"] = ticks["user"] * (1000000000ULL / uint64_t(hz));
        cpu["usage"]["kernel"] = ticks["system"] * (1000000000ULL / uint64_t(hz));
    } else if (cpu_stat.count("usage_usec")) {  // v2: microseconds
        cpu["usage"]["total"] = cpu_stat["usage_usec"] * 1000;
        cpu["usage"]["user"] = cpu_stat["user_usec"] * 1000;
        cpu["usage"]["kernel"] = cpu_stat["system_usec"] * 1000;
    }
    if (cpu_stat.count("nr_periods"))
        cpu["throttling"] = {{"periods", cpu_stat["nr_periods"]},
                             {"throttled_periods", cpu_stat["nr_throttled"]},
                             {"throttled_time", cpu_stat.count("throttled_time") ? cpu_stat["throttled_time"]
                                                                                  : cpu_stat["throttled_usec"] * 1000}};
    data["cpu"] = cpu;

    nlohmann::json memory = nlohmann::json::object();
    if (read_number(dirs, "memory.usage_in_bytes")) {  // v1
        memory["usage"] = usage(read_number(dirs, "memory.limit_in_bytes"), read_number(dirs, "memory.usage_in_bytes"),
                                read_number(dirs, "memory.max_usage_in_bytes"), read_number(dirs, "memory.failcnt"));
        memory["swap"] = usage(read_number(dirs, "memory.memsw.limit_in_bytes"), read_number(dirs, "memory.memsw.usage_in_bytes"),
                               read_number(dirs, "memory.memsw.max_usage_in_bytes"), read_number(dirs, "memory.memsw.failcnt"));
        memory["kernel"] = usage(read_number(dirs, "memory.kmem.limit_in_bytes"), read_number(dirs, "memory.kmem.usage_in_bytes"),
                                 read_number(dirs, "memory.kmem.max_usage_in_bytes"), read_number(dirs, "memory.kmem.failcnt"));
    } else if (auto current = read_number(dirs, "memory.current")) {  // v2
        memory["usage"] = usage(read_number(dirs, "memory.max"), current, read_number(dirs, "memory.peak"),
                                read_keyed(dirs, "memory.events")["max"]);
        memory["swap"] = usage(read_number(dirs, "memory.swap.max"), read_number(dirs, "memory.swap.current"),
                               read_number(dirs, "memory.swap.peak"), std::nullopt);
    }
    auto raw = read_keyed(dirs, "memory.stat");
    if (!raw.empty()) memory["raw"] = raw;
    data["memory"] = memory;

    nlohmann::json pids = nlohmann::json::object();
    if (auto current = read_number(dirs, "pids.current")) pids["current"] = *current;
    if (auto limit = read_number(dirs, "pids.max"); limit && *limit != UINT64_MAX) pids["limit"] = *limit;
    data["pids"] = pids;

    // As runc reads them: the reservation counters where the kernel keeps them (Linux >= 5.7;
    // v2 has no .rsvd.events, so its failcnt stays the fault limit's), else the fault counters.
    nlohmann::json hugetlb = nlohmann::json::object();
    for (const char* size : {"2MB", "1GB"}) {
        std::string prefix = std::string("hugetlb.") + size;
        std::string v1 = find_file(dirs, prefix + ".rsvd.usage_in_bytes").empty() ? prefix : prefix + ".rsvd";
        std::string v2 = find_file(dirs, prefix + ".rsvd.current").empty() ? prefix : prefix + ".rsvd";
        if (auto current = read_number(dirs, v1 + ".usage_in_bytes"))
            hugetlb[size] = usage(std::nullopt, current, read_number(dirs, v1 + ".max_usage_in_bytes"), read_number(dirs, v1 + ".failcnt"));
        else if (auto current = read_number(dirs, v2 + ".current"))
            hugetlb[size] = usage(std::nullopt, current, std::nullopt, read_keyed(dirs, prefix + ".events")["max"]);
    }
    data["hugetlb"] = hugetlb;
    data["blkio"] = nlohmann::json::object();
    data["intel_rdt"] = nlohmann::json::object();
    data["network_interfaces"] = nullptr;
    return data;
}

uint64_t oom_kill_count(const std::vector<std::string>& dirs) {
    // v1: memory.oom_control has an "oom_kill N" line; v2: memory.events does.
    auto v1 = read_keyed(dirs, "memory.oom_control");
    if (v1.count("oom_kill")) return v1["oom_kill"];
    return read_keyed(dirs, "memory.events")["oom_kill"];
}

}  // namespace crunlite::cgroups
