// Where the container's processes run and what they get: the CPUs of execCPUAffinity and the
// memory nodes of memoryPolicy must be online here, the interfaces of netDevices must exist.
#include <net/if.h>

#include <set>

#include "check/checks.hpp"
#include "crunlite/error.hpp"

namespace crunlite::check {
namespace {

// The numbers of `wanted` that /sys/... lists as online; all of them when that cannot be read.
std::set<long> online_of(const std::vector<unsigned>& wanted, const std::string& online_file, std::string& online_text) {
    std::set<long> online, out;
    online_text = read_small_file(online_file);
    while (!online_text.empty() && isspace((unsigned char)online_text.back())) online_text.pop_back();
    bool known = !online_text.empty() && parse_list(online_text, online);
    for (unsigned n : wanted)
        if (!known || online.count(n)) out.insert(n);
    return out;
}

void check_cpus(const std::string& path, const std::vector<unsigned>& cpus, Report& report) {
    std::string online_text;
    std::set<long> online = online_of(cpus, "/sys/devices/system/cpu/online", online_text);
    for (unsigned cpu : cpus)
        if (!online.count(cpu)) {
            report.error(path, "CPU " + std::to_string(cpu) + " is not online on this host (online: " + online_text + ")",
                         "use only CPUs listed in /sys/devices/system/cpu/online");
            return;
        }
}

}  // namespace

void check_placement(const Context& ctx, Report& report) {
    if (ctx.spec.process && ctx.spec.process->exec_cpu_affinity) {
        check_cpus(".process.execCPUAffinity.initial", ctx.spec.process->exec_cpu_affinity->initial, report);
        check_cpus(".process.execCPUAffinity.final", ctx.spec.process->exec_cpu_affinity->final_cpus, report);
    }
    if (const auto& policy = ctx.spec.linux.memory_policy; policy && !policy->nodes.empty()) {
        // The kernel keeps the nodes a process may use (its cpuset's) and refuses a mask left empty.
        std::string online_text;
        std::set<long> online = online_of(policy->nodes, "/sys/devices/system/node/online", online_text);
        if (online.empty())
            report.error(".linux.memoryPolicy.nodes", "no memory node of the list is online on this host (online: " + online_text + ")",
                         "use memory nodes listed in /sys/devices/system/node/online");
        else if (online.size() < policy->nodes.size())
            report.warning(".linux.memoryPolicy.nodes", "some of these memory nodes are not online on this host (online: " + online_text +
                                                             "); the kernel ignores them", "");
    }
    if (ctx.rootless) return;  // refused whole by the rootless rules
    for (auto& [host_name, device] : ctx.spec.linux.net_devices)
        if (::if_nametoindex(host_name.c_str()) == 0)
            report.error(".linux.netDevices." + host_name, "the host has no network interface \"" + host_name + "\"",
                         "create it first, or fix the name (`ip link` lists the host's interfaces)");
}

}  // namespace crunlite::check
