#include "launch/net_devices.hpp"

#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "sys/rtnetlink.hpp"

namespace crunlite::launch {
namespace {

// runtime-spec 1.3 (config-linux.md, Network Devices): the addresses that travel with the
// interface are the permanent ones of global scope; dynamic or link/host-scoped ones belong to
// the namespace they were made in (runc 1.4 and crun keep the same ones).
bool travels(const sys::InterfaceAddress& address) {
    return (address.flags & IFA_F_PERMANENT) && address.scope == RT_SCOPE_UNIVERSE;
}

}  // namespace

void move_net_devices(const planning::LaunchPlan& plan, pid_t init_pid) {
    if (plan.net_devices.empty()) return;
    UniqueFd own_target;
    int target = plan.net_namespace;
    if (target < 0) {
        std::string path = "/proc/" + std::to_string(init_pid) + "/ns/net";
        own_target.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!own_target) throw Error("open " + path, errno);
        target = own_target.get();
    }
    sys::RtNetlink host;
    sys::RtNetlink container = sys::RtNetlink::in_namespace(target);
    for (const planning::NetDeviceMove& device : plan.net_devices) {
        JsonPath where{device.json_path};
        try {
            std::optional<int> index = host.link_index(device.host_name);
            if (!index) throw Error(where, "the host has no network interface \"" + device.host_name + "\"", ENODEV);
            std::vector<sys::InterfaceAddress> addresses = host.addresses(*index);
            host.move_to_namespace(*index, device.container_name, target);
            // The index may change when the container's namespace already has that one.
            std::optional<int> moved = container.link_index(device.container_name);
            if (!moved) throw Error(where, "\"" + device.container_name + "\" is missing in the container after the move");
            for (const sys::InterfaceAddress& address : addresses)
                if (travels(address)) container.add_address(*moved, address);
            container.set_up(*moved);
            log::debug("network interface " + device.host_name + " moved into the container as " + device.container_name);
        } catch (const Error& e) {
            if (!e.json_path().empty()) throw;
            throw Error(where, "host interface \"" + device.host_name + "\": " + e.what_failed(), e.error_number(), e.hint());
        }
    }
}

}  // namespace crunlite::launch
