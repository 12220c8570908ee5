// A small rtnetlink (NETLINK_ROUTE) client, on the kernel's uapi headers alone: the few link and
// address requests that moving a host interface into a container needs (linux.netDevices).
// One request at a time, each acknowledged; errors carry the kernel's errno.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crunlite/unique_fd.hpp"

namespace crunlite::sys {

struct InterfaceAddress {
    uint8_t family = 0;  // AF_INET or AF_INET6
    uint8_t prefix_length = 0;
    uint8_t scope = 0;   // RT_SCOPE_*
    uint32_t flags = 0;  // IFA_F_*
    std::vector<uint8_t> local;  // IFA_LOCAL (IFA_ADDRESS when there is none): 4 or 16 bytes
    std::vector<uint8_t> peer;   // IFA_ADDRESS when it differs from IFA_LOCAL (point-to-point)
};

class RtNetlink {
public:
    // A socket in the calling process's network namespace at the time of the call; it stays
    // bound to that namespace.
    RtNetlink();
    // The same, in the network namespace `netns_fd` refers to: the calling (single-threaded)
    // process enters it for the socket() call and goes back to its own.
    static RtNetlink in_namespace(int netns_fd);

    // The interface's index, or nullopt when there is no interface of that name.
    std::optional<int> link_index(const std::string& name);
    // Every address of the interface (both families).
    std::vector<InterfaceAddress> addresses(int index);
    // Into the network namespace `netns_fd`, named `new_name` there, in one request (so that
    // the name is never taken in between). The kernel takes the interface down and drops its
    // addresses on the way.
    void move_to_namespace(int index, const std::string& new_name, int netns_fd);
    void add_address(int index, const InterfaceAddress& address);
    void set_up(int index);

private:
    explicit RtNetlink(UniqueFd fd) : fd_(std::move(fd)) {}
    // Sends one request (header and payload already in `message`) and returns the replies'
    // messages of a dump, or nothing for an acknowledged request; throws on a kernel error.
    std::vector<std::vector<uint8_t>> exchange(std::vector<uint8_t>& message, const std::string& what);

    UniqueFd fd_;
    uint32_t sequence_ = 0;
};

}  // namespace crunlite::sys
