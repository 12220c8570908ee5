// `update`: runc's flags, or a LinuxResources JSON from --resources FILE (or - for stdin),
// which wins over the flags, as in runc.
#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/commands.hpp"
#include "crunlite/error.hpp"
#include "crunlite/runtime.hpp"

namespace crunlite::cli {
namespace {

// "64m", "1G", "512k", "1048576" or "-1" -> bytes.
int64_t parse_size(const std::string& flag, const std::string& text) {
    if (text == "-1") return -1;
    size_t pos = 0;
    while (pos < text.size() && isdigit((unsigned char)text[pos])) ++pos;
    if (pos == 0) throw Error(flag + " \"" + text + "\": expected a size such as 64m or 1073741824");
    int64_t value = std::stoll(text.substr(0, pos));
    std::string unit = text.substr(pos);
    for (auto& c : unit) c = char(tolower(c));
    if (unit.size() == 2 && unit[1] == 'b') unit.pop_back();
    static const std::pair<const char*, int> units[] = {{"", 0}, {"b", 0}, {"k", 10}, {"m", 20}, {"g", 30}, {"t", 40}};
    for (auto& [name, shift] : units)
        if (unit == name) return value << shift;
    throw Error(flag + " \"" + text + "\": unknown unit \"" + unit + "\"");
}

}  // namespace

void add_update(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("update", "change the resource limits of a running container");
    auto id = std::make_shared<std::string>();
    auto resources_file = std::make_shared<std::string>();
    auto values = std::make_shared<std::map<std::string, std::string>>();
    cmd->add_option("-r,--resources", *resources_file, "LinuxResources JSON file, or - for standard input (the other flags are then ignored)")
        ->type_name(kFile);
    struct Flag {
        const char* name;
        const char* help;
    };
    static const Flag flags[] = {
        {"--blkio-weight", "block IO weight (10-1000)"},   {"--cpu-period", "CPU CFS period (us)"},
        {"--cpu-quota", "CPU CFS quota (us)"},             {"--cpu-burst", "CPU CFS burst (us)"},
        {"--cpu-share", "CPU shares (relative weight)"},   {"--cpu-rt-period", "real-time period (us)"},
        {"--cpu-rt-runtime", "real-time runtime (us)"},    {"--cpuset-cpus", "CPUs allowed (0-3, 0,1)"},
        {"--cpuset-mems", "memory nodes allowed"},         {"--cpu-idle", "1 for SCHED_IDLE, 0 otherwise"},
        {"--memory", "memory limit (64m, 1g...)"},         {"--memory-reservation", "memory soft limit"},
        {"--memory-swap", "memory plus swap limit"},       {"--pids-limit", "maximum number of tasks"},
        {"--kernel-memory", "kernel memory limit (v1)"},   {"--kernel-memory-tcp", "kernel TCP memory limit (v1)"},
    };
    for (auto& f : flags) cmd->add_option(f.name, (*values)[f.name + 2], f.help)->type_name("VALUE");
    cmd->add_option("--l3-cache-schema", (*values)["l3-cache-schema"], "Intel RDT (not supported)")->type_name("VALUE");
    cmd->add_option("--mem-bw-schema", (*values)["mem-bw-schema"], "Intel RDT (not supported)")->type_name("VALUE");
    cmd->add_option("id", *id, "container ID")->required()->type_name(kContainer);
    document(cmd, {.text = "update writes the new limits to the container's cgroups (v1 or v2, converted as runc "
                           "converts them). Sizes take k, m, g and t suffixes; -1 means "
                           "no limit."});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            nlohmann::json r = nlohmann::json::object();
            auto& v = *values;
            auto set = [&](const char* flag, const char* group, const char* key, bool size) {
                const std::string& text = v[flag];
                if (text.empty()) return;
                try {
                    r[group][key] = size ? parse_size(std::string("--") + flag, text) : std::stoll(text);
                } catch (const std::logic_error&) {
                    throw Error(std::string("--") + flag + " \"" + text + "\": expected a number");
                }
            };
            if (!v["l3-cache-schema"].empty() || !v["mem-bw-schema"].empty())
                throw Error("Intel RDT (--l3-cache-schema, --mem-bw-schema) is not supported by this version of crun-lite");
            set("blkio-weight", "blockIO", "weight", false);
            set("cpu-period", "cpu", "period", false);
            set("cpu-quota", "cpu", "quota", false);
            set("cpu-burst", "cpu", "burst", false);
            set("cpu-share", "cpu", "shares", false);
            set("cpu-rt-period", "cpu", "realtimePeriod", false);
            set("cpu-rt-runtime", "cpu", "realtimeRuntime", false);
            set("cpu-idle", "cpu", "idle", false);
            set("memory", "memory", "limit", true);
            set("memory-reservation", "memory", "reservation", true);
            set("memory-swap", "memory", "swap", true);
            set("kernel-memory", "memory", "kernel", true);
            set("kernel-memory-tcp", "memory", "kernelTCP", true);
            set("pids-limit", "pids", "limit", false);
            if (!v["cpuset-cpus"].empty()) r["cpu"]["cpus"] = v["cpuset-cpus"];
            if (!v["cpuset-mems"].empty()) r["cpu"]["mems"] = v["cpuset-mems"];
            std::string source = "update flags";
            if (!resources_file->empty()) {
                source = "--resources";
                std::string text;
                if (*resources_file == "-") {
                    text.assign(std::istreambuf_iterator<char>(std::cin), {});
                } else {
                    std::ifstream in(*resources_file);
                    if (!in) throw Error("--resources " + *resources_file, errno);
                    text.assign(std::istreambuf_iterator<char>(in), {});
                }
                try {
                    r = nlohmann::json::parse(text);
                } catch (const nlohmann::json::exception&) {
                    throw Error("--resources: invalid JSON");
                }
            }
            runtime::update(globals.root, *id, r, source);
            return 0;
        };
    });
}

}  // namespace crunlite::cli
