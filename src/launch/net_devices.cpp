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

// An interface moved in: where it is now, and what to restore should a later one fail.
struct Moved {
    int index;  // in the container's namespace
    std::string host_name;
    std::vector<sys::InterfaceAddress> addresses;
};

// After a failure: the interfaces already moved go back to the host under their own names, with
// their addresses (the kernel drops them on every move), down as the move leaves them, so that a
// failed create leaves the host as it was. Best effort: what cannot go back is logged.
void put_back(const std::vector<Moved>& moved, sys::RtNetlink& host, sys::RtNetlink& container) {
    UniqueFd home(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    for (const Moved& m : moved) {
        try {
            if (!home) throw Error("open /proc/self/ns/net", errno);
            container.move_to_namespace(m.index, m.host_name, home.get());
            std::optional<int> index = host.link_index(m.host_name);
            for (const sys::InterfaceAddress& address : m.addresses)
                if (index) host.add_address(*index, address);
        } catch (const Error& e) {
            log::warning("network interface " + m.host_name + " could not be moved back to the host: " + e.what());
        }
    }
}

Moved move_one(const planning::NetDeviceMove& device, sys::RtNetlink& host, sys::RtNetlink& container, int target) {
    JsonPath where{device.json_path};
    try {
        std::optional<int> index = host.link_index(device.host_name);
        if (!index) throw Error(where, "the host has no network interface \"" + device.host_name + "\"", ENODEV);
        if (container.link_index(device.container_name))
            throw Error(where, "the container's network namespace has an interface named \"" + device.container_name + "\" already",
                        EEXIST, "give the interface another name in the container (.name)");
        Moved moved{-1, device.host_name, host.addresses(*index)};
        std::erase_if(moved.addresses, [](const sys::InterfaceAddress& a) { return !travels(a); });
        try {
            host.move_to_namespace(*index, device.container_name, target);
        } catch (const Error&) {
            // The kernel moves first and renames after: a rename that failed leaves the
            // interface in the container's namespace under its host name.
            if (std::optional<int> stranded = container.link_index(device.host_name)) {
                moved.index = *stranded;
                put_back({moved}, host, container);
            }
            throw;
        }
        // The index may change when the container's namespace already has that one.
        std::optional<int> inside = container.link_index(device.container_name);
        if (!inside) throw Error(where, "\"" + device.container_name + "\" is missing in the container after the move");
        moved.index = *inside;
        try {
            for (const sys::InterfaceAddress& address : moved.addresses) container.add_address(moved.index, address);
            container.set_up(moved.index);
        } catch (const Error&) {
            put_back({moved}, host, container);
            throw;
        }
        log::debug("network interface " + device.host_name + " moved into the container as " + device.container_name);
        return moved;
    } catch (const Error& e) {
        if (!e.json_path().empty()) throw;
        throw Error(where, "host interface \"" + device.host_name + "\": " + e.what_failed(), e.error_number(), e.hint());
    }
}

}  // namespace

struct MovedInterfaces {
    UniqueFd container_netns;  // keeps the namespace, and what is in it, alive
    sys::RtNetlink host;
    sys::RtNetlink container;
    std::vector<Moved> moved;
};

MovedNetDevices::MovedNetDevices() = default;
MovedNetDevices::MovedNetDevices(std::unique_ptr<MovedInterfaces> moved) : moved_(std::move(moved)) {}
MovedNetDevices::MovedNetDevices(MovedNetDevices&&) noexcept = default;
void MovedNetDevices::keep() { moved_.reset(); }

MovedNetDevices::~MovedNetDevices() {
    if (!moved_) return;
    try {
        put_back(moved_->moved, moved_->host, moved_->container);
    } catch (...) {  // put_back logs what it cannot do; nothing may leave a destructor
    }
}

MovedNetDevices move_net_devices(const planning::LaunchPlan& plan, pid_t init_pid) {
    if (plan.net_devices.empty()) return {};
    UniqueFd target;
    if (plan.net_namespace >= 0) {
        target.reset(::fcntl(plan.net_namespace, F_DUPFD_CLOEXEC, 3));
        if (!target) throw Error("dup the network namespace to join", errno);
    } else {
        std::string path = "/proc/" + std::to_string(init_pid) + "/ns/net";
        target.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!target) throw Error("open " + path, errno);
    }
    sys::RtNetlink host;
    sys::RtNetlink container = sys::RtNetlink::in_namespace(target.get());
    auto state = std::make_unique<MovedInterfaces>(MovedInterfaces{std::move(target), std::move(host), std::move(container), {}});
    MovedInterfaces& in = *state;
    MovedNetDevices guard(std::move(state));
    // Each one joins the list once it is in, so that a failure of the next one puts it back.
    for (const planning::NetDeviceMove& device : plan.net_devices)
        in.moved.push_back(move_one(device, in.host, in.container, in.container_netns.get()));
    return guard;
}

}  // namespace crunlite::launch
