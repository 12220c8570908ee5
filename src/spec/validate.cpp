// Rules that span several fields (hostname needs a UTS namespace, a user namespace needs
// mappings, sysctls must be namespaced...).
#include <algorithm>
#include <map>

#include "crunlite/spec.hpp"
#include "spec/hints.hpp"
#include "spec/json_field.hpp"
#include "spec/validate.hpp"

namespace crunlite::spec {
namespace {

bool creates_or_joins(const Linux& linux, NamespaceKind kind) { return linux.find_namespace(kind) != nullptr; }

// Which namespace makes a sysctl safe to set, as runc's validator decides it.
std::optional<NamespaceKind> sysctl_namespace(const std::string& key) {
    static const char* ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                     "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    if (std::find(std::begin(ipc_keys), std::end(ipc_keys), key) != std::end(ipc_keys)) return NamespaceKind::ipc;
    if (key.rfind("fs.mqueue.", 0) == 0) return NamespaceKind::ipc;
    if (key.rfind("net.", 0) == 0) return NamespaceKind::network;
    if (key == "kernel.hostname" || key == "kernel.domainname") return NamespaceKind::uts;
    // The ucount limits (user.max_*) belong to each user namespace (runc >= 1.4 allows them
    // with a new one).
    if (key.rfind("user.", 0) == 0) return NamespaceKind::user;
    return std::nullopt;
}

constexpr const char* kMappingsHint =
    "map the container's ids to host ids, e.g. [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}] "
    "(`crun-lite spec --rootless` writes such mappings)";

}  // namespace

void check_cross_field_rules(const Spec& spec, const Collector& c) {
    const Linux& linux = spec.linux;
    auto rule = [&](bool broken, const std::string& path, const std::string& problem, const std::string& hint) {
        if (broken) c.record(SpecError(path, problem, hint));
    };
    rule(!spec.hostname.empty() && !creates_or_joins(linux, NamespaceKind::uts), ".hostname", "requires a \"uts\" namespace", hints::add_namespace("uts"));
    rule(!spec.domainname.empty() && !creates_or_joins(linux, NamespaceKind::uts), ".domainname", "requires a \"uts\" namespace", hints::add_namespace("uts"));

    const Namespace* user_ns = linux.find_namespace(NamespaceKind::user);
    bool new_user_ns = user_ns && user_ns->path.empty();
    rule(new_user_ns && linux.uid_mappings.empty(), ".linux.uidMappings", "is required with a new user namespace", kMappingsHint);
    rule(new_user_ns && linux.gid_mappings.empty(), ".linux.gidMappings", "is required with a new user namespace", kMappingsHint);
    rule(!new_user_ns && !linux.uid_mappings.empty(), ".linux.uidMappings", "requires a new \"user\" namespace", hints::add_namespace("user"));
    rule(!new_user_ns && !linux.gid_mappings.empty(), ".linux.gidMappings", "requires a new \"user\" namespace", hints::add_namespace("user"));

    const Namespace* time_ns = linux.find_namespace(NamespaceKind::time);
    rule(!linux.time_offsets.empty() && !(time_ns && time_ns->path.empty()), ".linux.timeOffsets",
         "requires a new \"time\" namespace", hints::add_namespace("time"));

    for (auto& [raw_key, value] : linux.sysctl) {
        std::string key = raw_key;
        std::replace(key.begin(), key.end(), '/', '.');  // "net/ipv4/ip_forward" names the same sysctl
        std::string path = ".linux.sysctl." + raw_key;
        if ((key == "kernel.hostname" && !spec.hostname.empty()) || (key == "kernel.domainname" && !spec.domainname.empty())) {
            c.record(SpecError(path, std::string("conflicts with the .") + key.substr(7) + " field",
                               "set the name once: in that field or by this sysctl"));
            continue;
        }
        auto needed = sysctl_namespace(key);
        if (!needed)
            c.record(SpecError(path, "is not namespaced and would change the host",
                               "only sysctls of the ipc, network and uts namespaces (and user.* with a new user namespace) can be set for a container; set this one on "
                               "the host, or drop it"));
        else if (*needed == NamespaceKind::user)
            rule(!new_user_ns, path, "requires a new \"user\" namespace: user.* sysctls are per user namespace, so without one "
                 "they would change the host", hints::add_namespace("user"));
        else rule(!creates_or_joins(linux, *needed), path, std::string("requires a \"") + namespace_name(*needed) + "\" namespace",
                  hints::add_namespace(namespace_name(*needed)));
    }
    // A container without its own pid namespace is allowed, as in runc.

    // runtime-spec 1.3: interfaces move into the container's own network namespace, a new one
    // or one joined by path (runc 1.4 and crun take both); never into the runtime's.
    rule(!linux.net_devices.empty() && !creates_or_joins(linux, NamespaceKind::network), ".linux.netDevices",
         "requires a \"network\" namespace: without one the interfaces would stay in the host's", hints::add_namespace("network"));
    std::map<std::string, std::string> taken;  // name in the container -> host name
    for (auto& [host_name, device] : linux.net_devices) {
        const std::string& inside = device.name.empty() ? host_name : device.name;
        auto [it, fresh] = taken.emplace(inside, host_name);
        if (!fresh)
            c.record(SpecError(".linux.netDevices." + host_name + (device.name.empty() ? "" : ".name"),
                               "\"" + inside + "\" is also the name of \"" + it->second + "\" in the container",
                               "give each interface its own name in the container"));
    }
}

}  // namespace crunlite::spec
